// Directory capture over a real repository and a real tree: the directory
// cache (keyspace 'd') must make unchanged directories free without ever
// hiding a change. The oracle for "nothing hidden" is a capture with the
// cache dropped: both must give the same root tree, byte for byte.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "engine/capture.h"
#include "engine/check.h"
#include "engine/index/dir_cache.h"
#include "engine/index/gc_state.h"
#include "engine/repository.h"
#include "engine/restore.h"
#include "tests/support/test_util.h"

namespace snap::engine {
namespace {

namespace fsys = std::filesystem;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class DirCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.encrypted = false;
    ASSERT_OK(Repository::Init(tmp_.Sub("repo"), o));
    Result<std::unique_ptr<Repository>> r = Repository::Open(tmp_.Sub("repo"), {});
    ASSERT_OK(r);
    repo_ = std::move(*r);
    for (const char* d : {"a", "a/b", "a/b/c", "z"}) fsys::create_directories(Src(d));
    Write(Src("top.txt"), "top");
    Write(Src("a/one.txt"), "one");
    Write(Src("a/b/two.txt"), "two two");
    Write(Src("a/b/c/deep.txt"), "deep down");
    Write(Src("z/last.txt"), "last");
    fsys::create_symlink("one.txt", Src("a/link"));
    ASSERT_EQ(::setxattr(Src("a/b/two.txt").c_str(), "user.tag", "v1", 2, 0), 0);
  }

  std::string Src(const std::string& rel = "") const {
    return rel.empty() ? tmp_.Sub("src") : tmp_.Sub("src/" + rel);
  }

  // Lets every entry's ctime fall behind the next capture's settling margin,
  // so that capture may cache every directory.
  static void Settle() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

  CaptureResult Snap(const std::string& post_hook = "", int workers = 2) {
    CaptureOptions opts;
    opts.sources = {{"s", Src(), {}}};
    opts.host = "h";
    opts.post_hook = post_hook;
    opts.workers = workers;
    Result<CaptureResult> r = TakeSnapshot(*repo_, opts);
    EXPECT_OK(r);
    return r.ok() ? *r : CaptureResult{};
  }
  static ChunkId Root(const CaptureResult& r) { return r.record.sources.at(0).root; }

  // A capture that cannot use the directory cache.
  ChunkId Fresh() {
    EXPECT_OK(index::DirCache(&repo_->kv()).Clear());
    return Root(Snap());
  }
  index::CachedDirs Cached() {
    index::CachedDirs dirs;
    EXPECT_OK(index::DirCache(&repo_->kv()).Load("s", &dirs));
    return dirs;
  }
  void DropFilesCache() { ASSERT_OK(repo_->kv().DeletePrefix("f")); }

  test::TempDir tmp_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(DirCaptureTest, UnchangedDirectoriesNeedNeitherFilesCacheNorReads) {
  Settle();
  ChunkId first = Root(Snap());
  EXPECT_EQ(Cached().size(), 5u);  // "", a, a/b, a/b/c, z
  DropFilesCache();
  CaptureResult again = Snap();
  EXPECT_EQ(Root(again), first);
  EXPECT_EQ(again.files_read, 0u);
  EXPECT_EQ(again.record.sources[0].stats.files, 5u);
  EXPECT_EQ(again.record.sources[0].stats.dirs, 5u);
  EXPECT_EQ(again.record.sources[0].stats.others, 1u);  // the symlink
  EXPECT_EQ(again.record.sources[0].stats.bytes, 3u + 3 + 7 + 9 + 4);
  EXPECT_EQ(again.record.sources[0].stats.new_chunks, 0u);
}

TEST_F(DirCaptureTest, EveryKindOfChangeIsCapturedAsAFullCaptureWould) {
  // Each change gets a directory of its own, k/N (with a file carrying an
  // xattr, a symlink and a subdirectory), cached when the change is made.
  struct Change {
    const char* what;
    std::function<void(const std::string& dir)> apply;
  };
  auto set_xattr = [](const std::string& path, const char* name, const char* value) {
    ASSERT_EQ(::lsetxattr(path.c_str(), name, value, std::strlen(value), 0), 0) << path;
  };
  std::vector<Change> changes = {
      {"content, same size", [&](const std::string& d) { Write(d + "/f.txt", "F"); }},
      {"content of a file in a subdirectory",
       [&](const std::string& d) { Write(d + "/sub/g.txt", "G"); }},
      {"mode",
       [&](const std::string& d) { fsys::permissions(d + "/f.txt", fsys::perms::owner_read); }},
      {"mtime only",
       [&](const std::string& d) {
         struct timespec t[2] = {{0, UTIME_OMIT}, {1'000'000'000, 5}};
         ASSERT_EQ(::utimensat(AT_FDCWD, (d + "/f.txt").c_str(), t, AT_SYMLINK_NOFOLLOW), 0);
       }},
      {"xattr of a file", [&](const std::string& d) { set_xattr(d + "/f.txt", "user.tag", "w"); }},
      {"xattr added to a file",
       [&](const std::string& d) { set_xattr(d + "/f.txt", "user.new", "n"); }},
      {"xattr removed",
       [&](const std::string& d) {
         ASSERT_EQ(::lremovexattr((d + "/f.txt").c_str(), "user.tag"), 0);
       }},
      {"xattr of a directory",
       [&](const std::string& d) { set_xattr(d + "/sub", "user.dir", "x"); }},
      {"xattr of a symlink",
       [&](const std::string& d) {
         // user.* xattrs cannot go on symlinks; trusted.* can, as root.
         if (::geteuid() == 0)
           set_xattr(d + "/link", "trusted.t", "t");
         else
           Write(d + "/f.txt", "symlink xattrs need root; another change instead");
       }},
      {"rename", [&](const std::string& d) { fsys::rename(d + "/f.txt", d + "/renamed.txt"); }},
      {"new file", [&](const std::string& d) { Write(d + "/new.txt", "f"); }},
      {"removed file", [&](const std::string& d) { fsys::remove(d + "/f.txt"); }},
      {"new empty directory", [&](const std::string& d) { fsys::create_directory(d + "/sub/e"); }},
      {"symlink retargeted",
       [&](const std::string& d) {
         fsys::remove(d + "/link");
         fsys::create_symlink("sub", d + "/link");
       }},
      {"hardlink added",
       [&](const std::string& d) { fsys::create_hard_link(d + "/f.txt", d + "/sub/hl"); }},
      {"owner",
       [&](const std::string& d) {
         if (::geteuid() == 0)
           ASSERT_EQ(::lchown((d + "/f.txt").c_str(), 4321, 4321), 0);
         else
           Write(d + "/f.txt", "owner changes need root; another change instead");
       }},
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    std::string d = Src("k/" + std::to_string(i));
    fsys::create_directories(d + "/sub");
    Write(d + "/f.txt", "f");
    Write(d + "/sub/g.txt", "g");
    fsys::create_symlink("f.txt", d + "/link");
    set_xattr(d + "/f.txt", "user.tag", "v");
  }
  Settle();
  ChunkId before = Root(Snap());
  for (size_t i = 0; i < changes.size(); ++i) {
    SCOPED_TRACE(changes[i].what);
    std::string rel = "k/" + std::to_string(i);
    ASSERT_TRUE(Cached().count(rel)) << "the directory to change is not cached";
    changes[i].apply(Src(rel));
    ChunkId cached = Root(Snap());
    EXPECT_NE(cached, before) << "the change did not show";
    EXPECT_EQ(cached, Fresh()) << "a cached directory hid the change";
    before = cached;
  }
}

TEST_F(DirCaptureTest, AGcRecordAppliedSinceInvalidatesEveryEntry) {
  Settle();
  ChunkId first = Root(Snap());
  DropFilesCache();
  index::WriteBatch b;
  index::GcState::SetApplied(&b, "gc/00000000000000000001-00000000");
  ASSERT_OK(repo_->kv().Write(b));
  CaptureResult again = Snap();
  EXPECT_EQ(again.files_read, 5u);  // nothing reused: chunks may be gone
  EXPECT_EQ(Root(again), first);
  EXPECT_EQ(Cached().size(), 5u);  // and cached anew under the new gc state
  for (const auto& [path, dir] : Cached()) EXPECT_EQ(dir.gc, "gc/00000000000000000001-00000000");
}

TEST_F(DirCaptureTest, AFailedSnapshotWritesNoEntries) {
  Settle();
  CaptureOptions opts;
  opts.sources = {{"s", Src(), {}}};
  opts.host = "h";
  opts.post_hook = "false";
  EXPECT_FALSE(TakeSnapshot(*repo_, opts).ok());
  EXPECT_TRUE(Cached().empty());
}

TEST_F(DirCaptureTest, DirectoriesWithFreshEntriesOrHardlinksAreNotCached) {
  fsys::create_hard_link(Src("z/last.txt"), Src("z/again.txt"));
  Settle();
  Write(Src("a/b/fresh.txt"), "just now");
  Snap();
  index::CachedDirs dirs = Cached();
  EXPECT_TRUE(dirs.count("a/b/c"));
  EXPECT_TRUE(dirs.count(""));
  EXPECT_FALSE(dirs.count("a/b")) << "holds an entry changed within the last second";
  EXPECT_FALSE(dirs.count("a")) << "holds a/b, whose ctime the new entry moved";
  EXPECT_FALSE(dirs.count("z")) << "holds hardlinks";
}

TEST_F(DirCaptureTest, ADirectoryThatChangesLosesItsEntryUntilItSettles) {
  Settle();
  Snap();
  ASSERT_TRUE(Cached().count("a/b"));
  Write(Src("a/b/fresh.txt"), "just now");
  Snap();
  index::CachedDirs dirs = Cached();
  EXPECT_FALSE(dirs.count("a/b")) << "its old entry must not survive the change";
  EXPECT_TRUE(dirs.count("a/b/c"));
  EXPECT_EQ(dirs.count("z"), 1u);
}

TEST_F(DirCaptureTest, EntriesOfRemovedDirectoriesAreDropped) {
  Settle();
  Snap();
  ASSERT_TRUE(Cached().count("a/b/c"));
  fsys::remove_all(Src("a/b/c"));
  Snap();
  EXPECT_FALSE(Cached().count("a/b/c"));
}

// Changed files are read on several threads at once while the walk goes
// on to the next directories; a directory is stored once its files and
// subdirectories are in, in whatever order they come. What they store and
// the trees they describe must be those of a capture with one reader:
// every chunk stored once even when two threads cut it at the same moment
// (duplicate files), every file's chunks in order, every subdirectory's
// tree in its parent.
TEST_F(DirCaptureTest, ReadsAcrossDirectoriesStoreWhatACaptureWithOneReaderWould) {
  fsys::create_directories(Src("many"));
  std::mt19937_64 rng(7);
  auto random_text = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  std::string twin = random_text(3u << 20);  // cut into several chunks
  for (int i = 0; i < 48; ++i) {
    std::string name = Src("many/f" + std::to_string(i));
    if (i % 8 == 0) Write(name, twin);
    else Write(name, random_text(i % 5 == 0 ? (1u << 20) + rng() % (2u << 20) : rng() % 9000));
  }
  Write(Src("many/empty"), "");
  // More files in one directory than the readers take at once (256).
  fsys::create_directories(Src("wide"));
  for (int i = 0; i < 300; ++i) Write(Src("wide/w" + std::to_string(i)), random_text(rng() % 300));
  // More directories with files than may be read at once (64), each with a
  // subdirectory; and a chain whose top holds a large file, so parents are
  // stored after their children and children after their parents' walk.
  for (int i = 0; i < 100; ++i) {
    std::string d = "dirs/d" + std::to_string(i);
    fsys::create_directories(Src(d + "/sub"));
    Write(Src(d + "/a"), random_text(rng() % 2000));
    Write(Src(d + "/sub/b"), i % 10 == 0 ? twin : random_text(rng() % 2000));
  }
  std::string chain = "chain";
  for (int depth = 0; depth < 12; ++depth) {
    fsys::create_directories(Src(chain));
    Write(Src(chain + "/at" + std::to_string(depth)),
          random_text(depth == 0 ? (4u << 20) : rng() % 5000));
    chain += "/c";
  }
  CaptureResult parallel = Snap("", 4);
  EXPECT_EQ(parallel.files_read, 354u + 200u + 12u);
  DropFilesCache();
  ASSERT_OK(index::DirCache(&repo_->kv()).Clear());
  CaptureResult serial = Snap("", 1);
  EXPECT_EQ(Root(serial), Root(parallel));
  EXPECT_EQ(serial.record.sources[0].stats.new_chunks, 0u) << "the parallel run stored them all";
  // And what it stored restores to the source, file for file.
  RestoreOptions ro;
  ro.target = tmp_.Sub("out");
  ASSERT_OK(Restore(*repo_, parallel.record, ro));
  size_t files = 0;
  for (const fsys::directory_entry& e : fsys::recursive_directory_iterator(Src())) {
    std::string rel = fsys::relative(e.path(), Src()).string();
    std::string back = tmp_.Sub("out/s/" + rel);
    if (e.is_directory()) {
      EXPECT_TRUE(fsys::is_directory(back)) << rel;
    } else if (e.is_regular_file() && !e.is_symlink()) {
      EXPECT_EQ(Read(e.path()), Read(back)) << rel;
      files++;
    }
  }
  EXPECT_EQ(files, parallel.files_read);
  Result<CheckReport> check = CheckRepository(*repo_, {.read_data = true});
  ASSERT_OK(check);
  EXPECT_TRUE(check->ok()) << (check->errors.empty() ? "" : check->errors[0]);
}

// Directory sources are captured two at a time through one pool of
// readers. Each must come out as it would alone, with its directory cache
// written, and the progress reported must add up over all of them.
TEST_F(DirCaptureTest, SourcesCapturedAtOnceComeOutAsEachWouldAlone) {
  std::string other = tmp_.Sub("other");
  fsys::create_directories(other + "/x/y");
  for (int i = 0; i < 50; ++i) Write(other + "/x/f" + std::to_string(i), std::string(100 + i, 'q'));
  Write(other + "/x/y/z", "zed");
  Settle();
  CaptureOptions opts;
  // Three: the third waits for a free slot.
  opts.sources = {{"s", Src(), {}}, {"t", other, {}}, {"u", Src("a"), {}}};
  opts.host = "h";
  uint64_t files_reported = 0;
  opts.progress = [&](const CaptureProgress& p) { files_reported = std::max(files_reported, p.files); };
  Result<CaptureResult> together = TakeSnapshot(*repo_, opts);
  ASSERT_OK(together);
  EXPECT_EQ(files_reported, 5u + 51u + 3u);
  for (const char* name : {"s", "t"}) {
    index::CachedDirs dirs;
    ASSERT_OK(index::DirCache(&repo_->kv()).Load(name, &dirs));
    EXPECT_FALSE(dirs.empty()) << name;
  }
  DropFilesCache();
  ASSERT_OK(index::DirCache(&repo_->kv()).Clear());
  for (const DirectorySource& src : opts.sources) {
    CaptureOptions one = opts;
    one.sources = {src};
    one.progress = nullptr;
    Result<CaptureResult> alone = TakeSnapshot(*repo_, one);
    ASSERT_OK(alone);
    const snapshot::SourceRecord* got = together->record.FindSource(src.name);
    ASSERT_NE(got, nullptr) << src.name;
    EXPECT_EQ(got->root, Root(*alone)) << src.name;
    EXPECT_EQ(got->stats.files, alone->record.sources[0].stats.files) << src.name;
  }
}

// Each source reports the stored size of the chunks it added, counted as
// the encode threads store them, whatever source the reading threads were
// busy with in between: text shrinks, random bytes do not, and a source
// whose files are all stored already stored nothing.
TEST_F(DirCaptureTest, EachSourceCountsTheStoredBytesOfItsOwnChunks) {
  std::string text = tmp_.Sub("text"), noise = tmp_.Sub("noise"), old = tmp_.Sub("old");
  std::mt19937_64 rng(7);
  auto write_text = [&](const std::string& dir, const std::string& tag) {
    fsys::create_directories(dir);
    uint64_t bytes = 0;
    for (int i = 0; i < 20; ++i) {
      std::string body;
      while (body.size() < (64u << 10)) body += "line " + std::to_string(i) + " of " + tag + "\n";
      Write(dir + "/t" + std::to_string(i), body);
      bytes += body.size();
    }
    return bytes;
  };
  uint64_t text_bytes = write_text(text, "some text");
  write_text(old, "older text");
  fsys::create_directories(noise);
  for (int i = 0; i < 4; ++i) {
    std::string body(256u << 10, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    Write(noise + "/n" + std::to_string(i), body);
  }
  CaptureOptions first;
  first.sources = {{"old", old, {}}};
  first.host = "h";
  ASSERT_OK(TakeSnapshot(*repo_, first));
  // "again" holds what the first snapshot stored: it adds nothing.
  CaptureOptions opts;
  opts.sources = {{"noise", noise, {}}, {"text", text, {}}, {"again", old, {}}};
  opts.dumps = {{"db", "seq 1 200000", ""}};
  opts.host = "h";
  Result<CaptureResult> r = TakeSnapshot(*repo_, opts);
  ASSERT_OK(r);
  auto stats = [&](const char* name) { return r->record.FindSource(name)->stats; };
  snapshot::SourceStats t = stats("text");
  EXPECT_EQ(t.new_bytes, text_bytes);
  EXPECT_GT(t.stored_bytes, 0u);
  EXPECT_LT(t.stored_bytes, t.new_bytes / 10);
  snapshot::SourceStats again = stats("again");
  EXPECT_EQ(again.new_chunks, 0u);
  EXPECT_EQ(again.stored_bytes, 0u);
  snapshot::SourceStats n = stats("noise");
  EXPECT_EQ(n.new_bytes, 4u << 18);
  EXPECT_GE(n.stored_bytes, n.new_bytes);  // stored raw: unencrypted, no seal overhead
  EXPECT_LT(n.stored_bytes, n.new_bytes + 1024);
  snapshot::SourceStats db = stats("db");
  EXPECT_GT(db.stored_bytes, 0u);
  EXPECT_LT(db.stored_bytes, db.new_bytes);
}

// A source that fails stops the others and fails the snapshot with its own
// error; nothing is committed.
TEST_F(DirCaptureTest, AFailingSourceFailsTheSnapshotWithItsOwnError) {
  for (int i = 0; i < 200; ++i) fsys::create_directories(Src("wide/d" + std::to_string(i)));
  CaptureOptions opts;
  opts.sources = {{"s", Src(), {}}, {"gone", tmp_.Sub("missing"), {}}};
  opts.host = "h";
  Result<CaptureResult> r = TakeSnapshot(*repo_, opts);
  ASSERT_FALSE(r.ok());
  std::string msg = r.status().ToString();
  EXPECT_NE(msg.find("source gone"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  Result<std::vector<Repository::SnapshotInfo>> all = repo_->ListSnapshots();
  ASSERT_OK(all);
  EXPECT_TRUE(all->empty());
}

}  // namespace
}  // namespace snap::engine
