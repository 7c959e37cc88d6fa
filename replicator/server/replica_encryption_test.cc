// The replica of an encrypted repository holds ciphertext only: frames and
// a snapshot made by the real engine, pushed through a session, leave no
// trace of their plaintext anywhere under the replica directory.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/repository.h"
#include "replicator/server/replica_session.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h
using protocol::Message;
using protocol::MessageType;

constexpr std::string_view kMarker = "MARKER-plaintext-4f1c9e2a";

bool TreeContains(const std::string& dir, std::string_view needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

Status Send(ReplicaSession& s, MessageType type, Buffer body = {}) {
  return s.OnMessage(Message{type, std::move(body)});
}

// Makes a repository with the engine, then pushes its config, one data
// chunk and one snapshot (both carrying the marker) to a fresh replica.
void PushMarkedRepository(bool encrypted, ReplicaDir* replica) {
  spdlog::set_level(spdlog::level::off);
  test::TempDir src;
  engine::InitOptions init;
  init.encrypted = encrypted;
  init.key_file = src.Sub("key");
  ASSERT_OK(engine::Repository::Init(src.Sub("repo"), init));
  engine::Credentials creds;
  creds.key_file = src.Sub("key");
  auto repo = engine::Repository::Open(src.Sub("repo"), creds);
  ASSERT_OK(repo);

  Buffer plain = engine::ToBuffer(kMarker);
  Buffer noise(4096);
  engine::codec::RandomBytes(noise);  // incompressible: stored as is when not sealed
  engine::Append(&plain, noise);
  engine::pack::EntryHeader h;
  h.id = (*repo)->Hash(plain);
  Buffer scratch, frame;
  engine::ByteSpan payload = (*repo)->EncodePayload(plain, &h, &scratch);
  engine::pack::EncodeFrame(h, payload, &frame);

  engine::snapshot::SnapshotRecord record;
  record.time_ns = 1;
  record.host = "host-" + std::string(kMarker);
  engine::snapshot::SourceRecord source;
  source.name = "files";
  source.root = h.id;
  record.sources.push_back(source);
  Result<ChunkId> snap = (*repo)->CommitSnapshot(record);
  ASSERT_OK(snap);
  Buffer object = *(*repo)->store().Get(engine::Repository::SnapshotKey(*snap));
  Buffer config = *(*repo)->store().Get("config");

  replica->AllowPush(KeyOf('a'));
  ReplicaSession s(&replica->store(), net::PeerInfo{"127.0.0.1:1", KeyOf('a')});
  protocol::Hello hello;
  hello.repo_id = (*repo)->config().repo_id;
  Buffer body;
  hello.EncodeTo(&body);
  ASSERT_OK(Send(s, MessageType::kHello, body));
  ASSERT_OK(Send(s, MessageType::kPutConfig, config));
  ASSERT_OK(Send(s, MessageType::kFrame, frame));
  protocol::SnapshotObjectMessage commit{*snap, object};
  body.clear();
  commit.EncodeTo(&body);
  ASSERT_OK(Send(s, MessageType::kCommitSnapshot, body));
  s.OnClose(Status::OK());
  std::shared_ptr<ReplicaRepo> held = *replica->store().Find(hello.repo_id);
  ASSERT_TRUE(held);
  ASSERT_EQ(held->stats().snapshots, 1u);
  ASSERT_EQ(**held->ReadFrame(h.id), frame);
}

TEST(ReplicaEncryption, EncryptedRepositoryLeavesNoPlaintextOnTheReplica) {
  ReplicaDir replica;
  PushMarkedRepository(/*encrypted=*/true, &replica);
  EXPECT_FALSE(TreeContains(replica.dir(), kMarker));
}

// The control: the same push of an unencrypted repository does show the
// marker, so the search above would find a leak.
TEST(ReplicaEncryption, UnencryptedRepositoryShowsItsPlaintext) {
  ReplicaDir replica;
  PushMarkedRepository(/*encrypted=*/false, &replica);
  EXPECT_TRUE(TreeContains(replica.dir(), kMarker));
}

}  // namespace
}  // namespace snap::replicator::server
