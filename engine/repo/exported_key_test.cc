#include "engine/repo/exported_key.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace snap::engine::repo {
namespace {

TEST(ExportedKey, RoundTripsThroughText) {
  ExportedKey k;
  k.repo_id.fill(std::byte{0x5a});
  k.keys = MasterKeys::Generate();
  std::string text = k.Encode();
  EXPECT_TRUE(ExportedKey::Looks(text));
  auto back = ExportedKey::Decode(text);
  ASSERT_OK(back);
  EXPECT_EQ(back->repo_id, k.repo_id);
  EXPECT_EQ(back->keys.seal, k.keys.seal);
  EXPECT_EQ(back->keys.id, k.keys.id);
  EXPECT_EQ(back->keys.gear_seed, k.keys.gear_seed);
}

TEST(ExportedKey, RejectsDamagedTextNamingTheLine) {
  ExportedKey k;
  k.keys = MasterKeys::Generate();
  std::string text = k.Encode();
  std::string bad_keys = text;
  bad_keys[bad_keys.size() - 2] = 'x';
  auto r = ExportedKey::Decode(bad_keys);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("third line"), std::string::npos);
  EXPECT_FALSE(ExportedKey::Decode(text.substr(0, 40)).ok());
  EXPECT_FALSE(ExportedKey::Looks(std::string(64, 'a') + "\n"));  // a KEK file
}

}  // namespace
}  // namespace snap::engine::repo
