// A progress line on stderr, redrawn at most five times a second; silent
// unless enabled (a terminal, not -q, not --json).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace snap::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  ~ProgressLine() { Done(); }

  // Redraws with files, bytes, rate and (when total > 0) ETA.
  void Update(uint64_t files, uint64_t bytes, uint64_t total, const std::string& current);
  void Done();

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_, last_{};
};

}  // namespace snap::cli
