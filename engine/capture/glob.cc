#include "engine/capture/glob.h"

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

bool Match(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.starts_with("**")) {
      std::string_view rest = p.substr(2);
      // "**/" also matches zero directories.
      if (rest.starts_with('/') && Match(rest.substr(1), s)) return true;
      for (size_t i = 0; i <= s.size(); ++i)
        if (Match(rest, s.substr(i))) return true;
      return false;
    }
    if (p[0] == '*') {
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(p.substr(1), s.substr(i))) return true;
        if (i < s.size() && s[i] == '/') break;
      }
      return false;
    }
    if (s.empty()) return false;
    size_t len = 1;
    if (p[0] == '?') {
      if (s[0] == '/') return false;
    } else if (p[0] == '[') {
      if (s[0] == '/' || !MatchClass(p, s[0], &len)) return false;
    } else if (p[0] == '\\' && p.size() > 1) {
      if (p[1] != s[0]) return false;
      len = 2;
    } else if (p[0] != s[0]) {
      return false;
    }
    p.remove_prefix(len);
    s.remove_prefix(1);
  }
  return s.empty();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) {
  if (pattern.starts_with('/')) pattern.remove_prefix(1);
  if (pattern.find('/') == std::string_view::npos) {
    size_t slash = path.rfind('/');
    if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  }
  return Match(pattern, path);
}

GlobSet::GlobSet(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {}

bool GlobSet::Matches(std::string_view rel_path) const {
  for (const std::string& p : patterns_)
    if (GlobMatch(p, rel_path)) return true;
  return false;
}

}  // namespace snap::engine::capture
