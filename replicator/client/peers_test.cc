#include "replicator/client/peers.h"

#include <gtest/gtest.h>

#include "engine/store/object_store.h"
#include "tests/support/test_util.h"

namespace snap::replicator::client {
namespace {

const std::string kFp = "sha256:" + std::string(64, 'a');

TEST(ReplicaUrl, ParsesHostPortAndRepository) {
  auto u = ParseReplicaUrl("replica://backup1:7411");
  ASSERT_OK(u);
  EXPECT_EQ(u->host, "backup1");
  EXPECT_EQ(u->port, 7411);
  EXPECT_EQ(u->repo_id, "");
  auto r = ParseReplicaUrl("replica://[::1]:9/0123456789abcdef0123456789abcdef");
  ASSERT_OK(r);
  EXPECT_EQ(r->host, "::1");
  EXPECT_EQ(r->repo_id, "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r->ToString(), "replica://[::1]:9/0123456789abcdef0123456789abcdef");
}

TEST(ReplicaUrl, RejectsMalformedAddressesSayingWhy) {
  for (const char* bad : {"backup1:7411", "replica://backup1", "replica://:7411",
                          "replica://h:0", "replica://h:65536", "replica://h:12x",
                          "replica://h:1/short", "replica://[::1:5", "http://h:1"}) {
    auto u = ParseReplicaUrl(bad);
    ASSERT_FALSE(u.ok()) << bad;
    EXPECT_TRUE(u.status().IsInvalidArgument());
    EXPECT_NE(u.status().message().find("replica://HOST:PORT"), std::string::npos);
  }
}

TEST(Peers, AddListRemoveRoundTrip) {
  auto store = engine::store::NewMemStore();
  ASSERT_OK(AddPeer(*store, {"zeta", *ParseReplicaUrl("replica://z:1"), kFp}));
  ASSERT_OK(AddPeer(*store, {"alpha", *ParseReplicaUrl("replica://a:2"), kFp}));
  auto peers = LoadPeers(*store);
  ASSERT_OK(peers);
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].name, "alpha");
  EXPECT_EQ((*peers)[0].url.port, 2);
  EXPECT_EQ((*peers)[1].fingerprint, kFp);
  ASSERT_NE(FindPeer(*peers, "zeta"), nullptr);
  ASSERT_OK(RemovePeer(*store, "zeta"));
  EXPECT_EQ(LoadPeers(*store)->size(), 1u);
  EXPECT_TRUE(RemovePeer(*store, "zeta").IsNotFound());
}

TEST(Peers, RefusesTakenNamesBadNamesAndBadFingerprints) {
  auto store = engine::store::NewMemStore();
  ReplicaUrl u = *ParseReplicaUrl("replica://h:1");
  ASSERT_OK(AddPeer(*store, {"b", u, kFp}));
  EXPECT_TRUE(AddPeer(*store, {"b", u, kFp}).IsInvalidArgument());
  EXPECT_TRUE(AddPeer(*store, {"Bad/Name", u, kFp}).IsInvalidArgument());
  EXPECT_TRUE(AddPeer(*store, {"c", u, "sha256:xyz"}).IsInvalidArgument());
}

}  // namespace
}  // namespace snap::replicator::client
