#include "engine/capture/glob.h"

#include <vector>

namespace snap::engine::capture {
namespace {

// Matches a [...] class at p[0] == '['; sets *len to the class's length.
// An unterminated class matches a literal '['.
bool MatchClass(std::string_view p, char c, size_t* len) {
  size_t i = 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool hit = false;
  size_t start = i;
  for (; i < p.size() && (p[i] != ']' || i == start); ++i) {
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hit |= static_cast<unsigned char>(c) >= static_cast<unsigned char>(p[i]) &&
             static_cast<unsigned char>(c) <= static_cast<unsigned char>(p[i + 2]);
      i += 2;
    } else {
      hit |= p[i] == c;
    }
  }
  if (i >= p.size()) {
    *len = 1;
    return c == '[';
  }
  *len = i + 1;
  return hit != negate;
}

// Matches pattern p against path s by memoised recursion over (position in
// p, position in s): each pair is decided once, so time is bounded by
// |p| * |s| steps per star, never exponential in the number of stars
// (backtracking matchers are, and paths are attacker-chosen).
class Matcher {
 public:
  Matcher(std::string_view p, std::string_view s)
      : p_(p), s_(s), memo_((p.size() + 1) * (s.size() + 1), kUnknown) {}

  bool Run() { return At(0, 0); }

 private:
  static constexpr signed char kUnknown = -1;

  bool At(size_t i, size_t j) {
    signed char& m = memo_[i * (s_.size() + 1) + j];
    if (m == kUnknown) m = Decide(i, j) ? 1 : 0;
    return m == 1;
  }

  bool Decide(size_t i, size_t j) {
    if (i == p_.size()) return j == s_.size();
    std::string_view p = p_.substr(i);
    if (p.starts_with("**")) {
      // "**/" also matches zero directories.
      if (p.size() > 2 && p[2] == '/' && At(i + 3, j)) return true;
      return At(i + 2, j) || (j < s_.size() && At(i, j + 1));
    }
    if (p[0] == '*') return At(i + 1, j) || (j < s_.size() && s_[j] != '/' && At(i, j + 1));
    if (j == s_.size()) return false;
    char c = s_[j];
    size_t len = 1;
    if (p[0] == '?') {
      if (c == '/') return false;
    } else if (p[0] == '[') {
      if (c == '/' || !MatchClass(p, c, &len)) return false;
    } else if (p[0] == '\\' && p.size() > 1) {
      if (p[1] != c) return false;
      len = 2;
    } else if (p[0] != c) {
      return false;
    }
    return At(i + len, j + 1);
  }

  std::string_view p_, s_;
  std::vector<signed char> memo_;
};

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  if (pattern.starts_with('/')) pattern.remove_prefix(1);
  if (pattern.find('/') == std::string_view::npos) {
    size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  }
  return Matcher(pattern, path).Run();
}

GlobSet::GlobSet(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

bool GlobSet::Matches(std::string_view rel_path) const {
  for (const std::string& p : patterns_)
    if (GlobMatch(p, rel_path)) return true;
  return false;
}

}  // namespace snap::engine::capture
