#include "replicator/client/queue.h"

#include <gtest/gtest.h>

#include "tests/support/chunk_ids.h"
#include "tests/support/test_util.h"

namespace snap::replicator::client {
namespace {

using test::FilledId;

TEST(ReplicationQueue, KeepsEntriesPerPeerUntilDone) {
  auto kv = engine::index::NewMemKv();
  ReplicationQueue q(kv.get());
  ASSERT_OK(q.Enqueue("a", FilledId(1), 10));
  ASSERT_OK(q.Enqueue("a", FilledId(2), 20));
  ASSERT_OK(q.Enqueue("a", FilledId(1), 30));  // already queued: unchanged
  ASSERT_OK(q.Enqueue("ab", FilledId(3), 40));  // a peer whose name extends another's
  auto a = q.Pending("a");
  ASSERT_OK(a);
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].snapshot, FilledId(1));
  EXPECT_EQ((*a)[0].queued_ns, 10);
  EXPECT_EQ(q.Pending("ab")->size(), 1u);
  ASSERT_OK(q.Done("a", FilledId(1)));
  EXPECT_EQ(q.Pending("a")->size(), 1u);
}

TEST(ReplicationQueue, CountsFailedAttemptsWithTheLastError) {
  auto kv = engine::index::NewMemKv();
  ReplicationQueue q(kv.get());
  ASSERT_OK(q.Enqueue("p", FilledId(7), 5));
  ASSERT_OK(q.Failed("p", FilledId(7), "replica 127.0.0.1:1: refused"));
  ASSERT_OK(q.Failed("p", FilledId(7), "timed out"));
  auto e = q.Pending("p");
  ASSERT_OK(e);
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].attempts, 2u);
  EXPECT_EQ((*e)[0].last_error, "timed out");
  EXPECT_EQ((*e)[0].queued_ns, 5);
}

TEST(ReplicationQueue, PeerStateRoundTrips) {
  auto kv = engine::index::NewMemKv();
  ReplicationQueue q(kv.get());
  auto empty = q.State("p");
  ASSERT_OK(empty);
  EXPECT_FALSE(empty->last_snapshot);
  PeerState s;
  s.last_snapshot = FilledId(9);
  s.last_success_ns = 123;
  s.last_failure_ns = 456;
  s.bytes_sent = uint64_t{1} << 40;
  s.last_error = "boom";
  ASSERT_OK(q.PutState("p", s));
  auto back = q.State("p");
  ASSERT_OK(back);
  EXPECT_EQ(back->last_snapshot, FilledId(9));
  EXPECT_EQ(back->last_success_ns, 123);
  EXPECT_EQ(back->last_failure_ns, 456);
  EXPECT_EQ(back->bytes_sent, uint64_t{1} << 40);
  EXPECT_EQ(back->last_error, "boom");
}

}  // namespace
}  // namespace snap::replicator::client
