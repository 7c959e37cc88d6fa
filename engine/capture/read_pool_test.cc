// ReadPool shares its readers between sources by bytes started: a source of
// a few large files must not have them all read before another source's
// small files, or one source's disk writes cannot overlap the other's
// compression.
#include "engine/capture/read_pool.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "engine/capture/encode_pool.h"
#include "engine/repo/pack_sink.h"
#include "engine/repository.h"
#include "tests/support/test_util.h"

namespace snap::engine::capture {
namespace {

class ReadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.encrypted = false;
    ASSERT_OK(Repository::Init(tmp_.Sub("repo"), o));
    Result<std::unique_ptr<Repository>> r = Repository::Open(tmp_.Sub("repo"), {});
    ASSERT_OK(r);
    repo_ = std::move(*r);
    sink_ = std::make_unique<repo::PackSink>(repo_.get());
    encode_ = std::make_unique<EncodePool>(repo_.get(), sink_.get(), 1, 1u << 20);
  }

  static std::vector<std::unique_ptr<FileRead>> Reads(const std::string& prefix, int n,
                                                      uint64_t size) {
    std::vector<std::unique_ptr<FileRead>> reads;
    for (int i = 0; i < n; ++i) {
      reads.push_back(std::make_unique<FileRead>());
      reads.back()->rel = prefix + std::to_string(i);
      reads.back()->size = size;
    }
    return reads;
  }

  test::TempDir tmp_;
  std::unique_ptr<Repository> repo_;
  std::unique_ptr<repo::PackSink> sink_;
  std::unique_ptr<EncodePool> encode_;
};

TEST_F(ReadPoolTest, TheSourceThatStartedFewerBytesIsReadNext) {
  ReadPool pool(repo_.get(), sink_.get(), encode_.get(), repo_->config().file_chunking, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool both_queued = false;
  std::vector<std::string> order;
  auto read = [&](FileRead* r, ChunkStream&) {
    std::unique_lock<std::mutex> lock(mu);
    order.push_back(r->rel);
    // The first read holds the only reader until both sources have queued.
    cv.wait(lock, [&] { return both_queued; });
  };
  {
    ReadPool::Client media(&pool, read);
    ReadPool::Client tree(&pool, read);
    media.Submit(Reads("media/", 3, 3u << 20));
    tree.Submit(Reads("tree/", 4, 4096));
    {
      std::lock_guard<std::mutex> lock(mu);
      both_queued = true;
    }
    cv.notify_all();
    while (media.in_flight() > 0) media.Collect(true);
    while (tree.in_flight() > 0) tree.Collect(true);
  }
  // media/0 went first (the reader was idle); then the tree, which had
  // started nothing, until its 16 KiB were all started; then the media.
  EXPECT_EQ(order, (std::vector<std::string>{"media/0", "tree/0", "tree/1", "tree/2", "tree/3",
                                             "media/1", "media/2"}));
}

// A source that starts late (the third of three, two at a time) starts
// level with the least served one: not at 0, which would give it the
// readers until it caught up with gigabytes read before it came.
TEST_F(ReadPoolTest, AClientThatComesLateStartsLevelWithTheOthers) {
  ReadPool pool(repo_.get(), sink_.get(), encode_.get(), repo_->config().file_chunking, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::string> order;
  auto read = [&](FileRead* r, ChunkStream&) {
    std::unique_lock<std::mutex> lock(mu);
    order.push_back(r->rel);
    cv.notify_all();
    if (r->rel == "early/hold0") cv.wait(lock, [&] { return release; });
  };
  ReadPool::Client early(&pool, read);
  early.Submit(Reads("early/big", 2, 1u << 20));
  while (early.in_flight() > 0) early.Collect(true);
  early.Submit(Reads("early/hold", 1, 1));  // holds the only reader
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return order.size() == 3; });
  }
  ReadPool::Client late(&pool, read);
  late.Submit(Reads("late/", 2, 4096));
  early.Submit(Reads("early/", 2, 4096));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  while (early.in_flight() > 0) early.Collect(true);
  while (late.in_flight() > 0) late.Collect(true);
  // late came level with early (2 MiB and the hold's 4 KiB, a read's least
  // cost): they alternate, early first on ties (it came first). Starting
  // at 0, late would have gone first with both its reads.
  EXPECT_EQ(order, (std::vector<std::string>{"early/big0", "early/big1", "early/hold0", "early/0",
                                             "late/0", "early/1", "late/1"}));
}

TEST_F(ReadPoolTest, AClientGoneDropsItsQueuedReadsAndLeavesTheOthers) {
  ReadPool pool(repo_.get(), sink_.get(), encode_.get(), repo_->config().file_chunking, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::string> order;
  auto read = [&](FileRead* r, ChunkStream&) {
    std::unique_lock<std::mutex> lock(mu);
    order.push_back(r->rel);
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  ReadPool::Client kept(&pool, read);
  kept.Submit(Reads("kept/a", 1, 100));
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return !order.empty(); });  // the only reader is held by kept/a0
  }
  {
    ReadPool::Client dropped(&pool, read);
    dropped.Submit(Reads("dropped/", 3, 1));
    kept.Submit(Reads("kept/b", 1, 100));
  }  // nothing of dropped's runs: its reads are dropped, not waited for
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  while (kept.in_flight() > 0) kept.Collect(true);
  EXPECT_EQ(order, (std::vector<std::string>{"kept/a0", "kept/b0"}));
}

}  // namespace
}  // namespace snap::engine::capture
