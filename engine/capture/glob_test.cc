#include "engine/capture/glob.h"

#include <gtest/gtest.h>

namespace snap::engine::capture {
namespace {

TEST(Glob, PatternWithoutSlashMatchesLastComponentAtAnyDepth) {
  EXPECT_TRUE(GlobMatch("*.tmp", "a.tmp"));
  EXPECT_TRUE(GlobMatch("*.tmp", "x/y/a.tmp"));
  EXPECT_FALSE(GlobMatch("*.tmp", "x/a.tmp/b"));
}

TEST(Glob, DoubleStarCrossesDirectories) {
  EXPECT_TRUE(GlobMatch("cache/**", "cache/a/b/c"));
  EXPECT_FALSE(GlobMatch("cache/**", "other/cache/a"));
  EXPECT_TRUE(GlobMatch("**/node_modules", "a/b/node_modules"));
  EXPECT_TRUE(GlobMatch("**/node_modules", "node_modules"));
}

TEST(Glob, SingleStarStopsAtSlash) {
  EXPECT_TRUE(GlobMatch("var/*/log", "var/x/log"));
  EXPECT_FALSE(GlobMatch("var/*/log", "var/x/y/log"));
}

TEST(Glob, ClassesAndQuestionMark) {
  EXPECT_TRUE(GlobMatch("file[0-9].txt", "file7.txt"));
  EXPECT_FALSE(GlobMatch("file[!0-9].txt", "file7.txt"));
  EXPECT_TRUE(GlobMatch("f?le", "file"));
  EXPECT_FALSE(GlobMatch("a?b", "a/b"));
  EXPECT_TRUE(GlobMatch("[", "["));
}

TEST(Glob, LeadingSlashAnchorsToRoot) {
  EXPECT_TRUE(GlobMatch("/tmp/*", "tmp/x"));
  EXPECT_FALSE(GlobMatch("/tmp/*", "a/tmp/x"));
}

}  // namespace
}  // namespace snap::engine::capture

namespace snap::engine::capture {
namespace {

// Paths are attacker-chosen: a pattern with many stars must not backtrack
// exponentially (these took seconds to minutes with a backtracking matcher).
TEST(Glob, ManyStarsStayFast) {
  EXPECT_FALSE(GlobMatch(std::string(20, '*') + "/nmd", "src/nodnod_moi.js" + std::string(29, '*')));
  std::string deep;
  for (int i = 0; i < 2000; ++i) deep += "a/";
  deep += "c";
  EXPECT_FALSE(GlobMatch("**/a/**/a/**/b", deep));
  EXPECT_TRUE(GlobMatch("**/a/**/a/**/c", deep));
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*ab", std::string(40, 'a')));
}

}  // namespace
}  // namespace snap::engine::capture
