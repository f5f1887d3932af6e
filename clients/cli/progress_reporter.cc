#include "clients/cli/progress_reporter.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace perfcast {
namespace {

std::string Seconds(absl::Duration duration) {
  const double seconds = absl::ToDoubleSeconds(duration);
  if (seconds < 120) return absl::StrFormat("%.0f s", seconds);
  return absl::StrFormat("%.0f min", std::round(seconds / 60));
}

}  // namespace

std::string ProgressLine(absl::string_view task, absl::string_view step, int done, int total,
                         absl::Duration elapsed) {
  std::string line =
      absl::StrFormat("%s  %s %d/%d  %s elapsed", task, step, done, total, Seconds(elapsed));
  if (done > 0 && done < total) {
    absl::StrAppend(&line, ", about ", Seconds(elapsed * (total - done) / done), " left");
  }
  return line;
}

ProgressReporter::ProgressReporter(std::ostream& out, bool enabled,
                                   std::function<absl::Time()> clock)
    : out_(out), enabled_(enabled), clock_(std::move(clock)) {}

void ProgressReporter::Report(absl::string_view task, absl::string_view step, int done, int total,
                              absl::string_view note) {
  if (!enabled_) return;
  const absl::Time now = clock_();
  if (task != task_) {
    task_ = std::string(task);
    task_start_ = now;
  }
  // Trailing spaces wipe what a longer earlier line left on the terminal.
  out_ << '\r' << ProgressLine(task, step, done, total, now - task_start_);
  if (!note.empty()) out_ << " (" << note << ")";
  out_ << "    ";
  if (done >= total) {
    out_ << '\n';
    task_.clear();
  }
  out_.flush();
}

void ProgressReporter::Abandon() {
  if (!enabled_ || task_.empty()) return;
  out_ << '\n';
  out_.flush();
  task_.clear();
}

}  // namespace perfcast
