#include "tools/snapctl/progress.h"

#include <cstdio>

#include "tools/snapctl/cli.h"

namespace snap::cli {

void ProgressLine::Update(uint64_t files, uint64_t bytes, uint64_t total,
                          const std::string& current) {
  if (!enabled_) return;
  auto now = Clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(bytes) / secs : 0;
  std::string line = std::to_string(files) + " files, " + HumanBytes(bytes);
  if (total > 0) line += " / " + HumanBytes(total);
  line += ", " + HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  if (total > bytes && rate > 0)
    line += ", ETA " + std::to_string(static_cast<uint64_t>((total - bytes) / rate)) + "s";
  std::string tail = current.size() > 40 ? "..." + current.substr(current.size() - 37) : current;
  std::fprintf(stderr, "\r\033[K%s  %s", line.c_str(), tail.c_str());
  drawn_ = true;
}

void ProgressLine::Done() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
  drawn_ = false;
}

}  // namespace snap::cli
