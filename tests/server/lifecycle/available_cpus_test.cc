#include "server/lifecycle/available_cpus.h"

#include <sched.h>

#include <thread>

#include "gtest/gtest.h"

namespace perfcast::server {
namespace {

TEST(CpusOfCpuMaxTest, AQuotaIsRoundedUpToWholeCpus) {
  EXPECT_EQ(CpusOfCpuMax("200000 100000"), 2);
  EXPECT_EQ(CpusOfCpuMax("150000 100000\n"), 2);
  EXPECT_EQ(CpusOfCpuMax("50000 100000"), 1);
  EXPECT_EQ(CpusOfCpuMax("1000 100000"), 1) << "a sliver of a CPU is still one thread";
}

TEST(CpusOfCpuMaxTest, NoQuotaOrAnUnreadableLineSaysNothing) {
  EXPECT_EQ(CpusOfCpuMax("max 100000"), std::nullopt);
  EXPECT_EQ(CpusOfCpuMax(""), std::nullopt);
  EXPECT_EQ(CpusOfCpuMax("200000"), std::nullopt);
  EXPECT_EQ(CpusOfCpuMax("0 100000"), std::nullopt);
  EXPECT_EQ(CpusOfCpuMax("200000 0"), std::nullopt);
  EXPECT_EQ(CpusOfCpuMax("-5 100000"), std::nullopt);
}

TEST(CpusOfCpuMaxTest, CgroupV1FilesJoinedReadTheSameWay) {
  EXPECT_EQ(CpusOfCpuMax("300000\n 100000\n"), 3);
  EXPECT_EQ(CpusOfCpuMax("-1\n 100000\n"), std::nullopt) << "v1's 'no quota'";
  EXPECT_EQ(CpusOfCpuMax("1e300 1"), 1000000) << "capped, not an undefined cast";
}

TEST(CgroupV2PathOfTest, TheUnifiedLineNamesTheGroup) {
  EXPECT_EQ(CgroupV2PathOf("0::/kubepods/burstable/pod1/abc\n"), "/kubepods/burstable/pod1/abc");
  EXPECT_EQ(CgroupV2PathOf("12:cpu,cpuacct:/docker/x\n0::/\n"), "/");
  EXPECT_EQ(CgroupV2PathOf("12:cpu,cpuacct:/docker/x\n4:memory:/docker/x\n"), std::nullopt);
  EXPECT_EQ(CgroupV2PathOf(""), std::nullopt);
}

TEST(AvailableCpusTest, AtMostTheAffinityMaskAndAtLeastOne) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  const int cpus = AvailableCpus();
  EXPECT_GE(cpus, 1);
  EXPECT_LE(cpus, CPU_COUNT(&mask));
}

TEST(AvailableCpusTest, AThreadPinnedToOneCpuSeesOne) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  ASSERT_EQ(sched_getaffinity(0, sizeof mask, &mask), 0);
  int first = 0;
  while (!CPU_ISSET(first, &mask)) ++first;
  int seen = 0;
  // On its own thread: the affinity of the test's main thread stays as it was.
  std::thread pinned([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0) seen = AvailableCpus();
  });
  pinned.join();
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace perfcast::server
