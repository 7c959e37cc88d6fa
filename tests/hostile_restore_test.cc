// Restore never writes outside its target, whatever the snapshot says.
// Hostile snapshots are crafted through the engine's API.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/repo/pack_sink.h"
#include "engine/repository.h"
#include "engine/restore.h"
#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;
using engine::ChunkId;
using engine::snapshot::Node;
using engine::snapshot::NodeType;
using engine::snapshot::Tree;

class HostileRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    engine::InitOptions init;
    init.key_file = tmp_.Sub("key");
    ASSERT_OK(engine::Repository::Init(tmp_.Sub("repo"), init));
    engine::Credentials creds;
    creds.key_file = tmp_.Sub("key");
    auto r = engine::Repository::Open(tmp_.Sub("repo"), creds);
    ASSERT_OK(r);
    repo_ = std::move(*r);
    fsys::create_directories(tmp_.Sub("target"));
    fsys::create_directories(tmp_.Sub("outside"));
  }

  // Stores `tree` (encoded as given, unsorted and unchecked) under a source
  // wrapper and returns the snapshot record.
  engine::snapshot::SnapshotRecord Commit(const Tree& content) {
    engine::repo::PackSink sink(repo_.get());
    engine::Buffer bytes;
    content.EncodeTo(&bytes);
    auto content_id = sink.Put(engine::pack::EntryKind::kTree, bytes);
    EXPECT_TRUE(content_id.ok());
    Tree wrapper;
    Node top;
    top.name = "www";
    top.type = NodeType::kDir;
    top.mode = 0755;
    top.subtree = *content_id;
    wrapper.nodes.push_back(top);
    bytes.clear();
    wrapper.EncodeTo(&bytes);
    auto root = sink.Put(engine::pack::EntryKind::kTree, bytes);
    EXPECT_TRUE(sink.Flush().ok());
    engine::snapshot::SnapshotRecord rec;
    rec.time_ns = 1;
    rec.host = "attacker";
    engine::snapshot::SourceRecord src;
    src.name = "www";
    src.root = *root;
    rec.sources.push_back(src);
    EXPECT_TRUE(repo_->CommitSnapshot(rec).ok());
    return rec;
  }

  ChunkId Content(const std::string& data) {
    engine::repo::PackSink sink(repo_.get());
    auto id = sink.Put(engine::pack::EntryKind::kData, engine::AsBytes(data));
    EXPECT_TRUE(sink.Flush().ok());
    return *id;
  }

  Node File(const std::string& name, const std::string& data) {
    Node n;
    n.name = name;
    n.type = NodeType::kFile;
    n.mode = 0644;
    n.size = data.size();
    n.content = {Content(data)};
    return n;
  }

  engine::Result<engine::RestoreStats> RestoreAll(bool delta = false) {
    auto snap = repo_->ResolveSnapshot("latest");
    EXPECT_TRUE(snap.ok());
    engine::RestoreOptions o;
    o.target = tmp_.Sub("target");
    o.delta = delta;
    return engine::Restore(*repo_, snap->record, o);
  }

  bool OutsideUntouched() {
    return fsys::is_empty(tmp_.Sub("outside")) && !fsys::exists(tmp_.Sub("escaped"));
  }

  TempDir tmp_;
  std::unique_ptr<engine::Repository> repo_;
};

TEST_F(HostileRestore, RefusesDotDotName) {
  Tree t;
  t.nodes.push_back(File("..", "evil"));
  Commit(t);
  EXPECT_FALSE(RestoreAll().ok());
  EXPECT_TRUE(OutsideUntouched());
}

TEST_F(HostileRestore, RefusesNameWithSlashOrNul) {
  for (std::string name : {std::string("../escaped"), std::string("a/../../escaped"),
                           std::string("x\0y", 3), std::string("/abs")}) {
    Tree t;
    t.nodes.push_back(File(name, "evil"));
    Commit(t);
    auto r = RestoreAll();
    EXPECT_FALSE(r.ok()) << "name accepted: " << name;
    EXPECT_TRUE(OutsideUntouched());
  }
}

TEST_F(HostileRestore, DoesNotFollowASymlinkPlantedOnTheWay) {
  // The target already holds www/sub -> ../outside; the snapshot writes
  // www/sub/f. A delta restore must replace the link, never write through it.
  fsys::create_directories(tmp_.Sub("target/www"));
  fsys::create_directory_symlink(tmp_.Sub("outside"), tmp_.Sub("target/www/sub"));
  Tree sub;
  sub.nodes.push_back(File("f", "payload"));
  engine::repo::PackSink sink(repo_.get());
  engine::Buffer bytes;
  sub.EncodeTo(&bytes);
  auto sub_id = sink.Put(engine::pack::EntryKind::kTree, bytes);
  ASSERT_OK(sink.Flush());
  Tree t;
  Node dir;
  dir.name = "sub";
  dir.type = NodeType::kDir;
  dir.mode = 0755;
  dir.subtree = *sub_id;
  t.nodes.push_back(dir);
  Commit(t);
  EXPECT_FALSE(RestoreAll(false).ok()) << "a non-empty target needs --delta";
  ASSERT_OK(RestoreAll(true));
  EXPECT_TRUE(OutsideUntouched());
  EXPECT_FALSE(fsys::is_symlink(tmp_.Sub("target/www/sub")));
  EXPECT_TRUE(fsys::exists(tmp_.Sub("target/www/sub/f")));
}

TEST_F(HostileRestore, ASymlinkInTheSnapshotIsNotFollowedByLaterEntries) {
  // A snapshot holding a symlink "a -> ../../outside" and a hardlink group
  // pointing through it cannot reach outside either.
  Tree t;
  Node link;
  link.name = "a";
  link.type = NodeType::kSymlink;
  link.link_target = tmp_.Sub("outside");
  link.mode = 0777;
  t.nodes.push_back(link);
  Node f = File("b", "x");
  t.nodes.push_back(f);
  Commit(t);
  ASSERT_OK(RestoreAll());
  EXPECT_TRUE(fsys::is_symlink(tmp_.Sub("target/www/a")));
  EXPECT_TRUE(OutsideUntouched());
}

TEST_F(HostileRestore, AbsurdSizeIsReportedNotTrusted) {
  Tree t;
  Node f = File("big", "tiny");
  f.size = 1ull << 50;
  t.nodes.push_back(f);
  Commit(t);
  auto r = RestoreAll();
  // The file is named as not restored and left out; nothing else is lost.
  ASSERT_OK(r);
  ASSERT_EQ(r->lost.size(), 1u);
  EXPECT_NE(r->lost[0].find("big"), std::string::npos) << r->lost[0];
  struct stat st;
  EXPECT_NE(stat(tmp_.Sub("target/www/big").c_str(), &st), 0);
}

}  // namespace
}  // namespace snap::test
