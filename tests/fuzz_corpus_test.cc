// The seed corpora of the repository, key, path, config and wire protocol
// fuzz targets (fuzz/<target>_fuzz.cc), replayed as ordinary tests so a
// crash once added to fuzz/corpus/<target>/ stays fixed.
//
// Files named seed_* come from our own encoders (DISABLED_WriteSeeds below)
// and must decode, and re-encode to bytes that decode equal; any other file
// (a crash-<sha1> saved by libFuzzer, say) only has to fail cleanly.
//
// Regenerate the seeds with
//   e2e_tests --gtest_also_run_disabled_tests --gtest_filter='FuzzCorpus.DISABLED_WriteSeeds'
// and those of wire_message and message_reader, made beside their encoders, with
//   protocol_tests --gtest_also_run_disabled_tests --gtest_filter='*WriteFuzzSeedCorpus'
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "engine/capture/glob.h"
#include "engine/pack/pack_format.h"
#include "engine/repo/config.h"
#include "engine/repo/key_file.h"
#include "engine/repo/snapshot_object.h"
#include "engine/snapshot/stream_list.h"
#include "engine/snapshot/tree.h"
#include "replicator/protocol/messages.h"
#include "tests/support/test_util.h"
#include "tools/snapctl/config_file.h"

namespace snap::engine {
namespace {

namespace fs = std::filesystem;
namespace protocol = replicator::protocol;
using repo::Config;
using repo::KeyFile;
using repo::SnapshotObject;
using snapshot::StreamList;

// This file is tests/fuzz_corpus_test.cc below the repository root.
fs::path CorpusRoot() { return fs::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus"; }

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteSeed(std::string_view target, std::string_view name, std::string_view bytes) {
  fs::path dir = CorpusRoot() / target;
  fs::create_directories(dir);
  std::ofstream(dir / ("seed_" + std::string(name)), std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
void WriteSeed(std::string_view target, std::string_view name, ByteSpan bytes) {
  WriteSeed(target, name, AsChars(bytes));
}

// Calls `check(bytes, is_seed)` for every file of fuzz/corpus/<target>.
void Replay(std::string_view target, const std::function<void(std::string_view, bool)>& check) {
  if (!fs::is_directory(CorpusRoot())) GTEST_SKIP() << "no corpus at " << CorpusRoot();
  fs::path dir = CorpusRoot() / target;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    SCOPED_TRACE(entry.path().string());
    std::string bytes = ReadFile(entry.path());
    check(bytes, entry.path().filename().string().starts_with("seed_"));
    ++files;
  }
  EXPECT_GT(files, 0u) << dir;
}

// Deterministic stand-ins for secrets, so regenerated seeds differ little.
template <typename Array>
Array Pattern(uint8_t first) {
  Array a{};
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::byte>(first + i);
  return a;
}

ChunkId Id(uint8_t first) { return {Pattern<std::array<std::byte, ChunkId::kSize>>(first)}; }

Buffer Encoded(const auto& value) {
  Buffer b;
  value.EncodeTo(&b);
  return b;
}

// ---- generator ----

void WriteKeyFileSeeds() {
  repo::MasterKeys keys{Pattern<codec::Key256>(1), Pattern<codec::Key256>(33),
                        Pattern<codec::Key256>(65)};
  auto kek = Pattern<codec::Key256>(0xa0);
  auto repo_id = Pattern<std::array<std::byte, 16>>(0x10);
  KeyFile clear = KeyFile::Wrap(keys, repo::WrapKind::kClear, kek, repo_id);
  WriteSeed("key_file", "clear", Encoded(clear));
  KeyFile pass = KeyFile::Wrap(keys, repo::WrapKind::kPassphrase, kek, repo_id);
  pass.scrypt = {1u << 15, 8, 1};
  pass.salt = Pattern<std::array<std::byte, 16>>(0x40);
  WriteSeed("key_file", "passphrase", Encoded(pass));
  WriteSeed("key_file", "key_file",
            Encoded(KeyFile::Wrap(keys, repo::WrapKind::kKeyFile, kek, repo_id)));
  WriteSeed("key_file", "kek", repo::EncodeKekFile(kek));
}

void WriteConfigSeeds() {
  Config c;
  c.repo_id = Pattern<std::array<std::byte, 16>>(0x10);
  WriteSeed("config", "default", Encoded(c));
  c.encrypted = false;
  c.file_chunking = {64, 128, 1024};
  c.zstd_level = 19;
  c.pack_target_size = 1u << 20;
  WriteSeed("config", "small_clear", Encoded(c));
  c.encrypted = true;
  c.file_chunking = {};
  c.dump_chunking = {16 * 1024, 64 * 1024, 64u << 20};
  c.zstd_level = 1;
  c.pack_target_size = 256u << 20;
  WriteSeed("config", "large", Encoded(c));
}

void WriteSnapshotObjectSeeds() {
  SnapshotObject o;
  WriteSeed("snapshot_object", "empty", Encoded(o));
  o.refs = {Id(1), Id(2), Id(3)};
  o.payload = ToBuffer("a snapshot record in clear");
  WriteSeed("snapshot_object", "clear", Encoded(o));
  o.flags = repo::kSnapshotObjectSealed;
  o.refs = {Id(9)};
  o.payload = Buffer(80, std::byte{0x5a});
  WriteSeed("snapshot_object", "sealed", Encoded(o));
}

void WriteStreamListSeeds() {
  StreamList s;
  WriteSeed("stream_list", "empty", Encoded(s));
  s.ids = {Id(1), Id(2), Id(3), Id(4), Id(5)};
  WriteSeed("stream_list", "level0", Encoded(s));
  s.level = 1;
  s.ids = {Id(7), Id(8)};
  WriteSeed("stream_list", "level1", Encoded(s));
}

// "pattern NUL path", as fuzz/restore_path_fuzz.cc splits its input.
void WriteRestorePathSeeds() {
  using namespace std::string_literals;
  WriteSeed("restore_path", "last_component", "*.tmp\0www/cache/a.tmp"s);
  WriteSeed("restore_path", "globstar", "cache/**\0cache/x/y/z.jpg"s);
  WriteSeed("restore_path", "globstar_dirs", "/**/node_modules/**/*.js\0src/node_modules/a/i.js"s);
  WriteSeed("restore_path", "class_escape", "[!a-c]?[0-9]\\*\0d/ex9*"s);
  WriteSeed("restore_path", "bad_name", "\0etc/../passwd"s);
}

constexpr std::string_view kTomlMinimal = R"([repository]
path = "/srv/backup/pim"

[source.home]
path = "/home"
)";

constexpr std::string_view kTomlFull = R"(# /etc/snapctl/snapctl.toml
[repository]
path = "/srv/backup/pim"
password_file = "/etc/snapctl/password"
key_file = "/etc/snapctl/key"

[source.uploads]
path = "/var/www/pim/upload"

[source.archive]
path = "/var/www/pim/archive"
exclude = ["cache/**", "*.tmp"]
exclude_caches = true

[dump.catalog]
kind = "mysql"
database = "pim"
options = "--defaults-extra-file=/etc/snapctl/my.cnf"

[dump.analytics]
kind = "postgres"
database = "analytics"
format = "custom"

[dump.events]
kind = "mongodb"
database = "events"

[dump.sessions]
command = "sqlite3 /var/lib/pim/sessions.db .dump"
restore = "sqlite3 /var/lib/pim/sessions.db"

[hooks]
pre = "systemctl stop pim-workers"
post = "systemctl start pim-workers"

[chunking.files]
min = 524288
avg = 1048576
max = 8388608

[chunking.dumps]
min = 65536
avg = 262144
max = 1048576

[profile.dev]
sources = ["uploads"]
dumps = ["catalog"]
post = ["php bin/console cache:clear"]

[profile.full]
dumps = ["catalog", "analytics", "events", "sessions"]
)";

constexpr std::string_view kTomlInline = R"(repository = { path = "/srv/b" }
source.etc = { path = "/etc", exclude = ['ssl/private/**'] }
dump.db = { command = "pg_dumpall", restore = "psql" }
profile.db = { dumps = ["db"], post = [] }
peer.offsite = { url = "replica://backup1:7411", fingerprint = "sha256:0000000000000000000000000000000000000000000000000000000000000000" }
replication = { attempts = 5, backoff_seconds = 10 }
retention = {}
)";

void WriteTomlConfigSeeds() {
  WriteSeed("toml_config", "minimal", kTomlMinimal);
  WriteSeed("toml_config", "full", kTomlFull);
  WriteSeed("toml_config", "inline_tables", kTomlInline);
}

// Run by hand (see the top of the file); rewrites the seed_* files.
TEST(FuzzCorpus, DISABLED_WriteSeeds) {
  WriteKeyFileSeeds();
  WriteConfigSeeds();
  WriteSnapshotObjectSeeds();
  WriteStreamListSeeds();
  WriteRestorePathSeeds();
  WriteTomlConfigSeeds();
}

// ---- replay, checking what the fuzz targets check ----

TEST(FuzzCorpus, KeyFileDecodesAndReencodes) {
  Replay("key_file", [](std::string_view bytes, bool seed) {
    Result<codec::Key256> kek = repo::DecodeKekFile(bytes);
    if (kek.ok()) {
      Result<codec::Key256> again = repo::DecodeKekFile(repo::EncodeKekFile(*kek));
      ASSERT_OK(again);
      EXPECT_EQ(*again, *kek);
    }
    Result<KeyFile> k = KeyFile::Decode(AsBytes(bytes));
    EXPECT_TRUE(!seed || k.ok() || kek.ok()) << k.status().ToString();
    if (!k.ok()) return;
    Result<KeyFile> again = KeyFile::Decode(Encoded(*k));
    ASSERT_OK(again);
    EXPECT_EQ(Encoded(*again), Encoded(*k));
    EXPECT_EQ(again->blob, k->blob);
    (void)k->Unwrap(codec::Key256{}, ByteSpan());
  });
}

TEST(FuzzCorpus, ConfigDecodesAndReencodes) {
  Replay("config", [](std::string_view bytes, bool seed) {
    Result<Config> c = Config::Decode(AsBytes(bytes));
    EXPECT_TRUE(!seed || c.ok()) << c.status().ToString();
    if (!c.ok()) return;
    Result<Config> again = Config::Decode(Encoded(*c));
    ASSERT_OK(again);
    EXPECT_EQ(Encoded(*again), Encoded(*c));
    EXPECT_EQ(again->repo_id, c->repo_id);
  });
}

TEST(FuzzCorpus, SnapshotObjectDecodesAndReencodes) {
  Replay("snapshot_object", [](std::string_view bytes, bool seed) {
    Result<SnapshotObject> o = SnapshotObject::Decode(AsBytes(bytes));
    EXPECT_TRUE(!seed || o.ok()) << o.status().ToString();
    if (!o.ok()) return;
    Result<SnapshotObject> again = SnapshotObject::Decode(Encoded(*o));
    ASSERT_OK(again);
    EXPECT_EQ(again->flags, o->flags);
    EXPECT_EQ(again->refs, o->refs);
    EXPECT_EQ(again->payload, o->payload);
  });
}

TEST(FuzzCorpus, StreamListDecodesAndReencodes) {
  Replay("stream_list", [](std::string_view bytes, bool seed) {
    Result<StreamList> s = StreamList::Decode(AsBytes(bytes));
    EXPECT_TRUE(!seed || s.ok()) << s.status().ToString();
    if (!s.ok()) return;
    Result<StreamList> again = StreamList::Decode(Encoded(*s));
    ASSERT_OK(again);
    EXPECT_EQ(again->level, s->level);
    EXPECT_EQ(again->ids, s->ids);
  });
}

TEST(FuzzCorpus, RestorePathChecksRun) {
  Replay("restore_path", [](std::string_view in, bool) {
    size_t nul = in.find('\0');
    std::string_view pattern = in.substr(0, nul);
    std::string_view path = nul == std::string_view::npos ? in : in.substr(nul + 1);
    (void)snapshot::IsValidName(path);
    (void)capture::GlobMatch(pattern, path);
    std::string escaped;
    for (char c : path) (escaped += '\\') += c;
    EXPECT_TRUE(capture::GlobMatch(escaped, path));
  });
}

TEST(FuzzCorpus, TomlConfigParsesWithoutThrowing) {
  Replay("toml_config", [](std::string_view text, bool seed) {
    Status s;
    EXPECT_NO_THROW(s = cli::ParseConfigText(text, "fuzz.toml").status());
    EXPECT_TRUE(!seed || s.ok()) << s.ToString();
  });
}

// fuzz/wire_message_fuzz.cc: the first byte is a message type, the rest its
// body; what decodes re-encodes to the same bytes.
template <typename T>
Status WireRoundTrip(ByteSpan body) {
  Result<T> v = T::Decode(body);
  if (!v.ok()) return v.status();
  EXPECT_EQ(ToHex(Encoded(*v)), ToHex(body));
  return Status::OK();
}

Status DecodeWireBody(protocol::MessageType type, ByteSpan body) {
  using protocol::MessageType;
  switch (type) {
    case MessageType::kHello: return WireRoundTrip<protocol::Hello>(body);
    case MessageType::kWelcome: return WireRoundTrip<protocol::Welcome>(body);
    case MessageType::kError: return WireRoundTrip<protocol::Error>(body);
    case MessageType::kHave:
    case MessageType::kGetChunks: return WireRoundTrip<protocol::IdList>(body);
    case MessageType::kHaveReply: return WireRoundTrip<protocol::HaveReply>(body);
    case MessageType::kGetSnapshot:
    case MessageType::kMissing: return WireRoundTrip<protocol::IdMessage>(body);
    case MessageType::kCommitSnapshot:
    case MessageType::kSnapshot: return WireRoundTrip<protocol::SnapshotObjectMessage>(body);
    case MessageType::kCommitted: return WireRoundTrip<protocol::Committed>(body);
    case MessageType::kSnapshotList: return WireRoundTrip<protocol::SnapshotList>(body);
    case MessageType::kFrame: {
      Result<pack::DecodedFrame> f = pack::DecodeFrame(body);
      if (!f.ok()) return f.status();
      Buffer again;
      pack::EncodeFrame(f->header, f->payload, &again);
      EXPECT_EQ(ToHex(again), ToHex(body));
      return Status::OK();
    }
    case MessageType::kPutConfig:
    case MessageType::kConfig: return Config::Decode(body).status();
    case MessageType::kGetConfig:
    case MessageType::kListSnapshots:
    case MessageType::kBye:
      return body.empty() ? Status::OK() : Status::Corruption("body not empty");
  }
  return Status::Corruption("unknown message type");
}

TEST(FuzzCorpus, WireMessageDecodesAndReencodes) {
  Replay("wire_message", [](std::string_view bytes, bool seed) {
    EXPECT_TRUE(!seed || !bytes.empty());
    if (bytes.empty()) return;
    auto type = static_cast<protocol::MessageType>(bytes[0]);
    Status s = DecodeWireBody(type, AsBytes(bytes.substr(1)));
    EXPECT_TRUE(!seed || s.ok()) << s.ToString();
  });
}

// fuzz/message_reader_fuzz.cc: n u8 | sizes u8[n] | stream, fed in pieces of
// size + 1 bytes in turn (whole when n = 0); the messages taken out
// re-encode to the stream's prefix.
TEST(FuzzCorpus, MessageReaderReadsBackTheStream) {
  Replay("message_reader", [](std::string_view bytes, bool seed) {
    EXPECT_TRUE(!seed || !bytes.empty());
    if (bytes.empty()) return;
    size_t n = std::min<size_t>(static_cast<uint8_t>(bytes[0]), bytes.size() - 1);
    std::string_view sizes = bytes.substr(1, n), stream = bytes.substr(1 + n);
    protocol::MessageReader reader;
    Buffer read_back;
    bool refused = false;
    for (size_t i = 0, fed = 0; fed < stream.size() && !refused; ++i) {
      size_t piece = n == 0 ? stream.size() : size_t{static_cast<uint8_t>(sizes[i % n])} + 1;
      piece = std::min(piece, stream.size() - fed);
      reader.Feed(AsBytes(stream.substr(fed, piece)));
      fed += piece;
      for (;;) {
        Result<std::optional<protocol::Message>> m = reader.Next();
        if (!m.ok() || !m->has_value()) {
          refused = !m.ok();
          break;
        }
        protocol::EncodeMessage((*m)->type, (*m)->body, &read_back);
      }
    }
    EXPECT_EQ(ToHex(read_back), ToHex(AsBytes(stream.substr(0, read_back.size()))));
    EXPECT_TRUE(!seed || (!refused && read_back.size() == stream.size()));
  });
}

}  // namespace
}  // namespace snap::engine
