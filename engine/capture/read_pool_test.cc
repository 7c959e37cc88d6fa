// ReadPool shares its readers between sources by bytes started: a source of
// a few large files must not have them all read before another source's
// small files, or one source's disk writes cannot overlap the other's
// compression.
#include "engine/capture/read_pool.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
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

// Records the order reads start in on the pool's one thread, and holds
// the reads `held` picks there until Release: the test decides what is
// queued before the reader chooses again.
class Recorder {
 public:
  explicit Recorder(std::function<bool(const std::string&)> held) : held_(std::move(held)) {}

  ReadPool::ReadFn Fn() {
    return [this](FileRead* r, ChunkStream&) {
      std::unique_lock<std::mutex> lock(mu_);
      order_.push_back(r->rel);
      cv_.notify_all();
      if (held_(r->rel)) cv_.wait(lock, [&] { return released_; });
    };
  }
  void WaitForStarted(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return order_.size() >= n; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::vector<std::string> order() {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  std::function<bool(const std::string&)> held_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::vector<std::string> order_;
};

void CollectAll(ReadPool::Client& c) {
  while (c.in_flight() > 0) c.Collect(true);
}

TEST_F(ReadPoolTest, TheSourceThatStartedFewerBytesIsReadNext) {
  ReadPool pool(repo_.get(), sink_.get(), encode_.get(), repo_->config().file_chunking, 1);
  // The first read holds the only reader until both sources have queued.
  Recorder rec([](const std::string& rel) { return rel == "media/0"; });
  {
    ReadPool::Client media(&pool, rec.Fn());
    ReadPool::Client tree(&pool, rec.Fn());
    media.Submit(Reads("media/", 3, 3u << 20));
    tree.Submit(Reads("tree/", 4, 4096));
    rec.Release();
    CollectAll(media);
    CollectAll(tree);
  }
  // media/0 went first (the reader was idle); then the tree, which had
  // started nothing, until its 16 KiB were all started; then the media.
  EXPECT_EQ(rec.order(), (std::vector<std::string>{"media/0", "tree/0", "tree/1", "tree/2",
                                                   "tree/3", "media/1", "media/2"}));
}

// A source that starts late (the third of three, two at a time) starts
// level with the least served one: not at 0, which would give it the
// readers until it caught up with gigabytes read before it came.
TEST_F(ReadPoolTest, AClientThatComesLateStartsLevelWithTheOthers) {
  ReadPool pool(repo_.get(), sink_.get(), encode_.get(), repo_->config().file_chunking, 1);
  Recorder rec([](const std::string& rel) { return rel == "early/hold0"; });
  ReadPool::Client early(&pool, rec.Fn());
  early.Submit(Reads("early/big", 2, 1u << 20));
  CollectAll(early);
  early.Submit(Reads("early/hold", 1, 1));  // holds the only reader
  rec.WaitForStarted(3);
  ReadPool::Client late(&pool, rec.Fn());
  late.Submit(Reads("late/", 2, 4096));
  early.Submit(Reads("early/", 2, 4096));
  rec.Release();
  CollectAll(early);
  CollectAll(late);
  // late came level with early (2 MiB and the hold's 4 KiB, a read's least
  // cost): they alternate, early first on ties (it came first). Starting
  // at 0, late would have gone first with both its reads.
  EXPECT_EQ(rec.order(), (std::vector<std::string>{"early/big0", "early/big1", "early/hold0",
                                                   "early/0", "late/0", "early/1", "late/1"}));
}

TEST_F(ReadPoolTest, AClientGoneDropsItsQueuedReadsAndLeavesTheOthers) {
  ReadPool pool(repo_.get(), sink_.get(), encode_.get(), repo_->config().file_chunking, 1);
  Recorder rec([](const std::string& rel) { return rel == "kept/a0"; });
  ReadPool::Client kept(&pool, rec.Fn());
  kept.Submit(Reads("kept/a", 1, 100));
  rec.WaitForStarted(1);  // the only reader is held by kept/a0
  {
    ReadPool::Client dropped(&pool, rec.Fn());
    dropped.Submit(Reads("dropped/", 3, 1));
    kept.Submit(Reads("kept/b", 1, 100));
  }  // nothing of dropped's runs: its reads are dropped, not waited for
  rec.Release();
  CollectAll(kept);
  EXPECT_EQ(rec.order(), (std::vector<std::string>{"kept/a0", "kept/b0"}));
}

}  // namespace
}  // namespace snap::engine::capture
