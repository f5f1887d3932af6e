#pragma once

#include <functional>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace perfcast {

// Progress of a long command (eval, fit) on one line of a terminal, rewritten in place: what runs,
// how far it is, the time spent and an estimate of the time left. Silent when disabled, so that a
// log or a pipe receives only the command's results.
//
// Thread safety: Report may be called from one thread at a time.
class ProgressReporter {
 public:
  // `enabled`: usually "stderr is a terminal and --quiet was not given".
  ProgressReporter(
      std::ostream& out, bool enabled,
      std::function<absl::Time()> clock = [] { return absl::Now(); });

  // `task` (e.g. "new-shape perfcast") has done `done` of `total` steps, each a `step` ("fold",
  // "stage"); `note` follows in parentheses when not empty. The first report of a task starts
  // its clock; the last ends its line.
  void Report(absl::string_view task, absl::string_view step, int done, int total,
              absl::string_view note = "");

  // Ends a line left open by a task that stopped before its last step (a failure), so that what
  // follows starts on a line of its own.
  void Abandon();

  bool enabled() const { return enabled_; }

 private:
  std::ostream& out_;
  bool enabled_;
  std::function<absl::Time()> clock_;
  std::string task_;
  absl::Time task_start_;
};

// "new-shape perfcast  fold 3/8  12 s elapsed, about 20 s left": the estimate assumes the steps
// left take as long as those done; none before the first step is done.
std::string ProgressLine(absl::string_view task, absl::string_view step, int done, int total,
                         absl::Duration elapsed);

}  // namespace perfcast
