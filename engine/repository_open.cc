// Repository::Init and Repository::Open: config, keys and the local index.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <algorithm>
#include <optional>

#include "engine/check.h"
#include "engine/repo/exported_key.h"
#include "engine/repository.h"

namespace snap::engine {
namespace {

constexpr std::string_view kConfigKey = "config";
constexpr std::string_view kKeyFileKey = "keys/master";
// Derives the key bundle IDs are hashed under (FORMAT.md "Slices").
constexpr std::string_view kBundleIdLabel = "snapctl-bundle-id-v1";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

Status WriteSecretFile(const std::string& path, std::string_view text) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Status::IOError(path + ": cannot create its directory: " + ec.message());
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(tmp + ": open", errno);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return Status::FromErrno(tmp + ": write", err);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(path + ": rename", errno);
  return Status::OK();
}

Result<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read the key file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<codec::Key256> KekFor(const repo::KeyFile& kf, const Credentials& creds,
                             const std::string& repo_id_hex) {
  if (kf.wrap == repo::WrapKind::kPassphrase) {
    if (!creds.passphrase)
      return Status::InvalidArgument(
          "repository is protected by a passphrase: set SNAPCTL_PASSWORD or pass "
          "--password-file");
    return codec::DeriveFromPassphrase(*creds.passphrase, kf.salt, kf.scrypt);
  }
  std::string path = creds.key_file.value_or(DefaultKeyFilePath(repo_id_hex));
  Result<std::string> text = ReadSmallFile(path);
  if (!text.ok())
    return Status::InvalidArgument(text.status().message() +
                                   " (pass --key-file or set SNAPCTL_KEY_FILE)");
  Result<codec::Key256> kek = repo::DecodeKekFile(*text);
  if (!kek.ok()) return kek.status().WithContext(path);
  return kek;
}

// The master keys from an exported key file named by --key-file, if it is one.
Result<std::optional<repo::MasterKeys>> ExportedKeys(const Credentials& creds,
                                                     const repo::Config& config) {
  if (!creds.key_file) return std::optional<repo::MasterKeys>();
  Result<std::string> text = ReadSmallFile(*creds.key_file);
  if (!text.ok() || !repo::ExportedKey::Looks(*text)) return std::optional<repo::MasterKeys>();
  Result<repo::ExportedKey> k = repo::ExportedKey::Decode(*text);
  if (!k.ok()) return k.status().WithContext(*creds.key_file);
  if (k->repo_id != config.repo_id)
    return Status::InvalidArgument(*creds.key_file + ": exported key of repository " +
                                   ToHex(k->repo_id) + ", not of " + config.RepoIdHex());
  return std::optional<repo::MasterKeys>(k->keys);
}

// An exported key when given, else keys/master unwrapped by the credentials.
Result<repo::MasterKeys> UnlockKeys(const std::string& dir, const store::ObjectStore& store,
                                    const repo::Config& config, const Credentials& creds) {
  SNAP_ASSIGN_OR_RETURN(std::optional<repo::MasterKeys> exported, ExportedKeys(creds, config));
  if (exported) return *exported;
  const std::string key_path = dir + "/" + std::string(kKeyFileKey);
  Result<Buffer> kf_bytes = store.Get(kKeyFileKey);
  if (kf_bytes.status().IsNotFound())
    return Status::InvalidArgument(
        "repository " + config.RepoIdHex() +
        " holds no key file (a replica or its cache): pass --key-file with the key "
        "`snapctl key export` printed");
  if (!kf_bytes.ok()) return kf_bytes.status();
  Result<repo::KeyFile> kf = repo::KeyFile::Decode(*kf_bytes);
  if (!kf.ok()) return kf.status().WithContext(key_path);
  codec::Key256 kek{};
  if (kf->wrap != repo::WrapKind::kClear) {
    SNAP_ASSIGN_OR_RETURN(kek, KekFor(*kf, creds, config.RepoIdHex()));
  }
  Result<repo::MasterKeys> keys = kf->Unwrap(kek, config.repo_id);
  if (keys.ok()) return keys;
  if (kf->wrap != repo::WrapKind::kKeyFile) return keys.status().WithContext(key_path);
  // Name the file whose key failed too: it may be damaged or another
  // repository's.
  return keys.status().WithContext(
      key_path + " with " + creds.key_file.value_or(DefaultKeyFilePath(config.RepoIdHex())));
}

}  // namespace

Status Repository::CreateKeyless(const std::string& dir, ByteSpan config_bytes) {
  SNAP_ASSIGN_OR_RETURN(repo::Config config, repo::Config::Decode(config_bytes));
  (void)config;
  SNAP_ASSIGN_OR_RETURN(auto store, store::OpenLocalStore(dir));
  Result<bool> put = store->PutIfAbsent(kConfigKey, config_bytes);
  if (!put.ok()) return put.status();
  if (!*put) {
    SNAP_ASSIGN_OR_RETURN(Buffer have, store->Get(kConfigKey));
    if (!std::equal(have.begin(), have.end(), config_bytes.begin(), config_bytes.end()))
      return Status::InvalidArgument(dir + ": holds another repository's config");
  }
  std::error_code ec;
  for (const char* sub : {"/packs", "/snapshots", "/locks"})
    std::filesystem::create_directories(dir + sub, ec);
  return Status::OK();
}

std::string DefaultKeyFilePath(const std::string& repo_id_hex) {
  std::string home = EnvOr("HOME", "/root");
  std::string config = EnvOr("XDG_CONFIG_HOME", home + "/.config");
  std::string dir = EnvOr("SNAPCTL_KEY_DIR", config + "/snapctl/keys");
  return dir + "/" + repo_id_hex + ".key";
}

Result<InitResult> Repository::Init(const std::string& dir, const InitOptions& opts) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec))
    return Status::InvalidArgument(dir + ": not empty; a repository is created in a new or empty "
                                         "directory");
  SNAP_RETURN_IF_ERROR(opts.config.file_chunking.Validate().WithContext("file chunking"));
  SNAP_RETURN_IF_ERROR(opts.config.dump_chunking.Validate().WithContext("dump chunking"));
  SNAP_ASSIGN_OR_RETURN(auto store, store::OpenLocalStore(dir));
  repo::Config config = opts.config;
  config.encrypted = opts.encrypted;
  codec::RandomBytes(config.repo_id);
  InitResult result;
  result.repo_id = config.RepoIdHex();

  repo::MasterKeys keys = repo::MasterKeys::Generate();
  repo::KeyFile kf;
  if (!opts.encrypted) {
    kf = repo::KeyFile::Wrap(keys, repo::WrapKind::kClear, {}, config.repo_id);
  } else if (opts.passphrase) {
    std::array<std::byte, 16> salt;
    codec::RandomBytes(salt);
    SNAP_ASSIGN_OR_RETURN(codec::Key256 kek,
                          codec::DeriveFromPassphrase(*opts.passphrase, salt, opts.scrypt));
    kf = repo::KeyFile::Wrap(keys, repo::WrapKind::kPassphrase, kek, config.repo_id);
    kf.salt = salt;
    kf.scrypt = opts.scrypt;
  } else {
    codec::Key256 kek = codec::RandomKey();
    result.key_file = opts.key_file.empty() ? DefaultKeyFilePath(result.repo_id) : opts.key_file;
    SNAP_RETURN_IF_ERROR(WriteSecretFile(result.key_file, repo::EncodeKekFile(kek)));
    kf = repo::KeyFile::Wrap(keys, repo::WrapKind::kKeyFile, kek, config.repo_id);
  }
  Buffer kf_bytes, config_bytes;
  kf.EncodeTo(&kf_bytes);
  config.EncodeTo(&config_bytes);
  // Keys before config: a directory with a config is a repository.
  SNAP_RETURN_IF_ERROR(store->PutIfAbsent(kKeyFileKey, kf_bytes).status());
  SNAP_RETURN_IF_ERROR(store->PutIfAbsent(kConfigKey, config_bytes).status());
  for (const char* sub : {"/packs", "/snapshots", "/locks"})
    std::filesystem::create_directories(dir + sub, ec);
  return result;
}

namespace {

constexpr char kRebuildAdvice[] =
    " (the index is a cache of the packs: `snapctl check --rebuild-index` moves it aside "
    "and rebuilds it)";

struct OpenedIndex {
  Result<std::unique_ptr<index::KvStore>> kv;
  bool fresh = false, read_only = false;
};

// Opens DIR/index for `mode` (see Repository::Mode). An index that does not
// open for any reason but another process's lock is damaged: it is a cache,
// so the error says how to rebuild it, and kRebuildIndex does so.
Result<OpenedIndex> OpenIndex(const std::string& dir, Repository::Mode mode) {
  const std::string path = dir + "/index";
  std::error_code ec;
  index::RocksOptions opts;
  opts.corruption_advice = kRebuildAdvice;
  const bool fresh = !std::filesystem::exists(path, ec);
  OpenedIndex o{index::OpenRocksKv(path, opts), fresh, false};
  // Another process holds the index (a running snapshot), or too little
  // space is left to open it for writing: readers see it read-only.
  bool no_space = !o.kv.ok() && o.kv.status().message().find("No space left") != std::string::npos;
  if (!o.kv.ok() && (o.kv.status().code() == Status::Code::kUnavailable || no_space) &&
      mode == Repository::Mode::kReadOnly && !o.fresh) {
    opts.read_only = true;
    o.kv = index::OpenRocksKv(path, opts);
    o.read_only = true;
  }
  if (o.kv.ok() && mode == Repository::Mode::kRebuildIndex) {
    // Damage inside a table shows only when it is read.
    Status verified = (*o.kv)->Verify();
    if (!verified.ok()) o.kv = verified;  // closes the database
  }
  if (o.kv.ok() || o.kv.status().code() == Status::Code::kUnavailable || no_space) return o;
  if (mode != Repository::Mode::kRebuildIndex) {
    if (o.kv.status().IsCorruption()) return o.kv.status();  // carries the advice
    return Status::IOError(o.kv.status().message() + kRebuildAdvice);
  }
  const std::string aside = dir + "/index.damaged";
  std::filesystem::remove_all(aside, ec);
  std::filesystem::rename(path, aside, ec);
  if (ec) return Status::IOError(path + ": cannot move the damaged index aside: " + ec.message());
  o.kv = index::OpenRocksKv(path, opts);
  o.fresh = true;
  return o;
}

}  // namespace

Result<std::unique_ptr<Repository>> Repository::Open(const std::string& dir,
                                                     const Credentials& creds, Mode mode) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::NotFound(dir + ": no such repository (run `snapctl init` first)");
  SNAP_ASSIGN_OR_RETURN(auto store, store::OpenLocalStore(dir));
  Result<Buffer> config_bytes = store->Get(kConfigKey);
  if (!config_bytes.ok())
    return Status::NotFound(dir + ": not a snapctl repository (no config; run `snapctl init`)");
  SNAP_ASSIGN_OR_RETURN(repo::Config config,
                        repo::Config::Decode(*config_bytes));
  SNAP_ASSIGN_OR_RETURN(repo::MasterKeys keys, UnlockKeys(dir, *store, config, creds));
  std::unique_ptr<Repository> r(new Repository());
  r->dir_ = dir;
  r->config_ = config;
  r->keys_ = keys;
  r->hasher_ = codec::KeyedHasher(keys.id);
  r->bundle_hasher_ = codec::KeyedHasher(r->hasher_.Derive(kBundleIdLabel, {}));
  if (config.encrypted) r->sealer_ = std::make_unique<codec::Sealer>(keys.seal);
  r->gear_ = chunk::MakeGearTable(keys.gear_seed);
  r->store_ = std::move(store);
  SNAP_ASSIGN_OR_RETURN(OpenedIndex opened, OpenIndex(dir, mode));
  if (!opened.kv.ok()) return opened.kv.status();
  bool fresh_index = opened.fresh, read_only = opened.read_only;
  r->kv_ = std::move(*opened.kv);
  r->index_read_only_ = read_only;
  r->chunk_index_ = std::make_unique<index::ChunkIndex>(r->kv_.get());
  r->catalog_ = std::make_unique<index::Catalog>(r->kv_.get());
  r->files_cache_ = std::make_unique<index::FilesCache>(r->kv_.get());
  r->index_rebuilt_ = fresh_index;
  if (fresh_index) {
    // The index is a cache: a lost one is rebuilt from the packs before use.
    SNAP_ASSIGN_OR_RETURN(RebuildReport rebuilt, RebuildIndex(*r));
    (void)rebuilt;
  } else if (!read_only) {
    SNAP_RETURN_IF_ERROR(r->SyncCatalog());
  }
  if (!read_only) {
    // A reading command still works past a gc record that does not decode
    // (gc and snapshots stop on it and name it); a writer must not.
    Status applied = r->ApplyGcRecords();
    if (!applied.ok() && mode != Mode::kReadOnly) return applied;
  }
  return r;
}

Repository::~Repository() = default;

}  // namespace snap::engine
