// Writes the seed corpora of fuzz/wire_message_fuzz.cc and
// fuzz/message_reader_fuzz.cc with the protocol's own encoders; the corpora
// are replayed as tests by tests/fuzz_corpus_test.cc. Run by hand:
//   protocol_tests --gtest_also_run_disabled_tests --gtest_filter='*WriteFuzzSeedCorpus'
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/pack/pack_format.h"
#include "engine/repo/config.h"
#include "engine/repo/snapshot_object.h"
#include "replicator/protocol/messages.h"
#include "replicator/protocol/protocol_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::protocol {
namespace {

namespace fs = std::filesystem;
using test::Encoded;
using test::Id;

// This file is replicator/protocol/ below the repository root.
fs::path CorpusDir(std::string_view target) {
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" / "corpus" /
         target;
}

void WriteSeed(std::string_view target, std::string_view name, ByteSpan bytes) {
  fs::path dir = CorpusDir(target);
  fs::create_directories(dir);
  ASSERT_LT(bytes.size(), 4096u) << name;
  std::ofstream(dir / ("seed_" + std::string(name)), std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

RepoId SampleRepoId() {
  RepoId r;
  for (size_t i = 0; i < r.size(); ++i) r[i] = std::byte(0xa0 + i);
  return r;
}

Buffer ConfigBody() {
  engine::repo::Config c;
  c.repo_id = SampleRepoId();
  return Encoded(c);
}

// A clear tree frame whose refs are two children.
Buffer FrameBody() {
  engine::pack::EntryHeader h;
  h.kind = engine::pack::EntryKind::kTree;
  Buffer payload = engine::ToBuffer("an encoded tree");
  h.raw_length = static_cast<uint32_t>(payload.size());
  h.id = Id(0x30);
  h.refs = {Id(0x10), Id(0x20)};
  Buffer frame;
  engine::pack::EncodeFrame(h, payload, &frame);
  EXPECT_OK(engine::pack::DecodeFrame(frame));
  return frame;
}

Buffer SnapshotObjectBody() {
  engine::repo::SnapshotObject o;
  o.refs = {Id(0x30)};
  o.payload = engine::ToBuffer("a snapshot record");
  return Encoded(SnapshotObjectMessage{Id(0x50), Encoded(o)});
}

struct Sample {
  const char* name;
  MessageType type;
  Buffer body;
};

std::vector<Sample> Samples() {
  Hello hello;
  hello.repo_id = SampleRepoId();
  hello.client_name = "web1";
  HaveReply reply;
  for (int i = 0; i < 11; ++i) reply.have.push_back(i % 3 != 1);
  SnapshotList list;
  list.entries = {{Id(0x50), 1700000000000000000, 120}, {Id(0x60), 1700000360000000000, 96}};
  return {
      {"hello", MessageType::kHello, Encoded(hello)},
      {"welcome", MessageType::kWelcome, Encoded(Welcome{kProtocolVersion, true, "replica-1"})},
      {"error", MessageType::kError, Encoded(Error{Status::Code::kAborted, "not admitted"})},
      {"put_config", MessageType::kPutConfig, ConfigBody()},
      {"have", MessageType::kHave, Encoded(IdList{{Id(0x10), Id(0x20), Id(0x30)}})},
      {"have_reply", MessageType::kHaveReply, Encoded(reply)},
      {"frame", MessageType::kFrame, FrameBody()},
      {"commit_snapshot", MessageType::kCommitSnapshot, SnapshotObjectBody()},
      {"committed", MessageType::kCommitted, Encoded(Committed{Id(0x50), true})},
      {"snapshot_list", MessageType::kSnapshotList, Encoded(list)},
      {"get_snapshot", MessageType::kGetSnapshot, Encoded(IdMessage{Id(0x50)})},
      {"missing", MessageType::kMissing, Encoded(IdMessage{Id(0x20)})},
      {"bye", MessageType::kBye, {}},
  };
}

// n u8 | sizes u8[n] | the messages named, as fuzz/message_reader_fuzz.cc
// splits its input.
Buffer ReaderInput(std::vector<uint8_t> sizes, std::vector<std::string_view> names) {
  Buffer in{std::byte(sizes.size())};
  for (uint8_t s : sizes) in.push_back(std::byte{s});
  for (std::string_view name : names) {
    for (const Sample& s : Samples()) {
      if (s.name == name) EncodeMessage(s.type, s.body, &in);
    }
  }
  return in;
}

TEST(WireFuzzSeeds, DISABLED_WriteFuzzSeedCorpus) {
  for (const Sample& s : Samples()) {
    Buffer in{std::byte(s.type)};
    in.insert(in.end(), s.body.begin(), s.body.end());
    WriteSeed("wire_message", s.name, in);
  }
  WriteSeed("message_reader", "push_whole",
            ReaderInput({}, {"hello", "put_config", "have", "frame", "commit_snapshot", "bye"}));
  WriteSeed("message_reader", "read_byte_by_byte",
            ReaderInput({0}, {"hello", "get_snapshot", "have", "bye"}));
  WriteSeed("message_reader", "replies_odd_splits",
            ReaderInput({2, 6, 40}, {"welcome", "have_reply", "committed", "snapshot_list",
                                     "frame", "missing", "error"}));
}

}  // namespace
}  // namespace snap::replicator::protocol
