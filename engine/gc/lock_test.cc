#include "engine/gc/lock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/test_util.h"

namespace snap::engine::gc {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1000000000;

// The pid of a process that has exited and been reaped.
pid_t GonePid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

TEST(LockInfo, RoundTrips) {
  LockInfo l{LockKind::kWriter, "web1", 4242, 1763607600000000000};
  Buffer bytes;
  l.EncodeTo(&bytes);
  Result<LockInfo> back = LockInfo::Decode(bytes);
  ASSERT_OK(back);
  EXPECT_EQ(back->kind, LockKind::kWriter);
  EXPECT_EQ(back->host, "web1");
  EXPECT_EQ(back->pid, 4242u);
  EXPECT_EQ(back->start_ns, l.start_ns);
  bytes[bytes.size() - 1] ^= std::byte{1};
  EXPECT_FALSE(LockInfo::Decode(bytes).ok());
}

TEST(LockStaleness, ALockOfAGoneProcessOnThisHostIsStale) {
  LockInfo l{LockKind::kWriter, LockHostName(), static_cast<uint64_t>(GonePid()), 0};
  std::string why;
  EXPECT_TRUE(IsStale(l, 1, &why));
  EXPECT_NE(why.find("is gone"), std::string::npos);
}

TEST(LockStaleness, ALiveProcessKeepsItsLockWhateverItsAge) {
  LockInfo l{LockKind::kWriter, LockHostName(), static_cast<uint64_t>(getpid()), 0};
  std::string why;
  EXPECT_FALSE(IsStale(l, 100 * 24 * kHour, &why));
}

TEST(LockStaleness, ALockFromAnotherHostIsStaleAfterADay) {
  LockInfo l{LockKind::kWriter, LockHostName() + "-elsewhere", 1, 0};
  std::string why;
  EXPECT_FALSE(IsStale(l, 23 * kHour, &why));
  EXPECT_TRUE(IsStale(l, 25 * kHour, &why));
}

TEST(HeldLock, WriterLockIsListedUntilReleased) {
  auto store = store::NewMemStore();
  Result<std::unique_ptr<HeldLock>> lock = HeldLock::AcquireWriter(store.get());
  ASSERT_OK(lock);
  Result<std::vector<FoundLock>> found = ListLocks(*store, 0);
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].key, (*lock)->key());
  EXPECT_FALSE((*found)[0].stale);
  EXPECT_EQ((*found)[0].info.pid, static_cast<uint64_t>(getpid()));
  lock->reset();
  ASSERT_OK(ListLocks(*store, 0));
  EXPECT_TRUE(ListLocks(*store, 0)->empty());
}

TEST(HeldLock, RunningWriterLockReplacesTheStartingOne) {
  auto store = store::NewMemStore();
  Result<std::unique_ptr<HeldLock>> lock = HeldLock::AcquireWriter(store.get());
  ASSERT_OK(lock);
  EXPECT_EQ((*lock)->info().state, LockState::kStarting);
  EXPECT_FALSE((*lock)->info().HasSeen("gc/00000000000000000001-00000000"));
  std::string first = (*lock)->key();
  ASSERT_OK((*lock)->MarkRunning("gc/00000000000000000005-00000000"));
  Result<std::vector<FoundLock>> found = ListLocks(*store, 0);
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_NE((*found)[0].key, first);
  const LockInfo& info = (*found)[0].info;
  EXPECT_EQ(info.state, LockState::kRunning);
  EXPECT_TRUE(info.HasSeen("gc/00000000000000000005-00000000"));
  EXPECT_TRUE(info.HasSeen("gc/00000000000000000001-00000000"));
  EXPECT_FALSE(info.HasSeen("gc/00000000000000000006-00000000"));
}

TEST(HeldLock, SecondGcIsRefusedWhileTheFirstRuns) {
  auto store = store::NewMemStore();
  Result<std::unique_ptr<HeldLock>> first = HeldLock::AcquireGc(store.get());
  ASSERT_OK(first);
  Result<std::unique_ptr<HeldLock>> second = HeldLock::AcquireGc(store.get());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(second.status().message().find("another gc is running"), std::string::npos);
}

TEST(HeldLock, StaleGcLockIsTakenOver) {
  auto store = store::NewMemStore();
  LockInfo dead{LockKind::kGc, LockHostName(), static_cast<uint64_t>(GonePid()), 0};
  Buffer bytes;
  dead.EncodeTo(&bytes);
  ASSERT_OK(store->PutIfAbsent(kGcLockKey, bytes));
  Result<std::unique_ptr<HeldLock>> lock = HeldLock::AcquireGc(store.get());
  ASSERT_OK(lock);
  EXPECT_EQ((*lock)->info().pid, static_cast<uint64_t>(getpid()));
}

}  // namespace
}  // namespace snap::engine::gc
