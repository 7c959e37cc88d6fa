// StepProgress: a long command's steps on stderr ("gc: marking 1200/5000"),
// redrawn in place at most five times a second on a terminal, one line per
// step otherwise (a log or cron mail). Shared by snapctl and replicad.
// Not thread-safe: call Update from one thread.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

namespace snap::tools {

class StepProgress {
 public:
  // `what` prefixes every line ("gc"); a disabled one prints nothing.
  explicit StepProgress(std::string what, bool enabled = true)
      : what_(std::move(what)), enabled_(enabled), tty_(isatty(STDERR_FILENO)) {}
  ~StepProgress() { Done(); }
  StepProgress(const StepProgress&) = delete;
  StepProgress& operator=(const StepProgress&) = delete;

  // `total` 0: unknown.
  void Update(const std::string& step, uint64_t done, uint64_t total) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    bool new_step = step != step_;
    if (!new_step && (!tty_ || now - last_ < std::chrono::milliseconds(200))) return;
    if (new_step && !step_.empty() && tty_) std::cerr << "\n";
    step_ = step;
    last_ = now;
    if (!tty_) {
      std::cerr << what_ << ": " << step << "\n";
      return;
    }
    std::cerr << "\r" << what_ << ": " << step << " " << done;
    if (total) std::cerr << "/" << total;
    std::cerr << "   " << std::flush;
  }
  // Ends the redrawn line.
  void Done() {
    if (enabled_ && tty_ && !step_.empty()) std::cerr << "\n";
    step_.clear();
  }

 private:
  const std::string what_;
  const bool enabled_, tty_;
  std::string step_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace snap::tools
