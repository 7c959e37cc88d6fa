#include "engine/codec/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace snap::engine::codec {

namespace {

// On disk: the label of the per-payload cipher key (FORMAT.md "Sealed payload").
constexpr std::string_view kSealLabel = "snapctl-seal-v1";
constexpr size_t kSaltSize = 16;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
static_assert(Sealer::kOverhead == kSaltSize + kNonceSize + kTagSize);

// OpenSSL takes int lengths; feed larger spans in pieces.
constexpr size_t kMaxPiece = size_t{1} << 30;

// scrypt limits: the parameters come from a key file, which may be hostile.
constexpr uint64_t kMaxScryptN = uint64_t{1} << 22;
constexpr uint64_t kMaxScryptRP = 64;
constexpr uint64_t kMaxScryptMemory = uint64_t{1} << 30;  // 128 * n * r bytes
constexpr uint64_t kMinScryptMaxmem = uint64_t{256} << 20;

// OpenSSL fails here only when memory or the CSPRNG is gone; the callers'
// contracts (IDs, seals) have no error path and nothing safe can follow.
[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "snapctl: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

const unsigned char* U8(ByteSpan b) { return reinterpret_cast<const unsigned char*>(b.data()); }
unsigned char* U8(MutableByteSpan b) { return reinterpret_cast<unsigned char*>(b.data()); }

// Explicit fetches, done once: OpenSSL 3 otherwise looks the algorithm up in
// the provider store on every call, which costs more than hashing a small tree.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) Die("SHA256 fetch");
  return md;
}

const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (cipher == nullptr) Die("AES-256-GCM fetch");
  return cipher;
}

// Pre-keyed HMAC-SHA-256 contexts per thread. Re-keying costs about a
// microsecond (two SHA-256 blocks plus provider calls); re-initialising
// under the same key only copies the saved inner state. Two slots, because
// the capture pipeline alternates the ID key and the master key (seal
// sub-keys) on one thread.
class ThreadMac {
 public:
  ThreadMac() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) Die("HMAC fetch");
    for (Slot& s : slots_) {
      if ((s.ctx = EVP_MAC_CTX_new(mac)) == nullptr) Die("HMAC setup");
    }
  }
  ~ThreadMac() {
    for (Slot& s : slots_) {
      EVP_MAC_CTX_free(s.ctx);
      OPENSSL_cleanse(s.key.data(), s.key.size());
    }
  }
  ThreadMac(const ThreadMac&) = delete;
  ThreadMac& operator=(const ThreadMac&) = delete;

  static ThreadMac& Get() {
    thread_local ThreadMac mac;
    return mac;
  }

  void Start(const Key256& key) {
    size_t i = 0;
    while (i < slots_.size() && !(slots_[i].keyed && slots_[i].key == key)) ++i;
    if (i < slots_.size()) {
      if (EVP_MAC_init(slots_[i].ctx, nullptr, 0, nullptr) != 1) Die("HMAC init");
    } else {
      i = victim_;
      Rekey(&slots_[i], key);
    }
    cur_ = slots_[i].ctx;
    victim_ = 1 - i;  // least recently used of the two
  }

  void Update(ByteSpan data) {
    if (!data.empty() && EVP_MAC_update(cur_, U8(data), data.size()) != 1) Die("HMAC update");
  }

  std::array<std::byte, 32> Finish() {
    std::array<std::byte, 32> out;
    size_t n = 0;
    if (EVP_MAC_final(cur_, U8(MutableByteSpan(out)), &n, out.size()) != 1 || n != out.size()) {
      Die("HMAC final");
    }
    return out;
  }

 private:
  struct Slot {
    EVP_MAC_CTX* ctx = nullptr;
    Key256 key{};
    bool keyed = false;
  };

  static void Rekey(Slot* s, const Key256& key) {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(s->ctx, U8(ByteSpan(key)), key.size(), params) != 1) Die("HMAC init");
    s->key = key;
    s->keyed = true;
  }

  std::array<Slot, 2> slots_;
  size_t victim_ = 0;
  EVP_MAC_CTX* cur_ = nullptr;
};

// One cipher context per thread, bound to AES-256-GCM once; later inits pass
// no cipher so OpenSSL keeps the provider context instead of rebuilding it.
EVP_CIPHER_CTX* ThreadGcm() {
  struct Deleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_CIPHER_CTX, Deleter> ctx = [] {
    std::unique_ptr<EVP_CIPHER_CTX, Deleter> c(EVP_CIPHER_CTX_new());
    if (!c || EVP_CipherInit_ex2(c.get(), Aes256Gcm(), nullptr, nullptr, 1, nullptr) != 1) {
      Die("AES-256-GCM setup");
    }
    return c;
  }();
  return ctx.get();
}

void StartGcm(EVP_CIPHER_CTX* ctx, const Key256& key, ByteSpan nonce, int enc, ByteSpan aad) {
  if (EVP_CipherInit_ex2(ctx, nullptr, U8(ByteSpan(key)), U8(nonce), enc, nullptr) != 1) {
    Die("AES-256-GCM init");
  }
  for (size_t off = 0; off < aad.size(); off += kMaxPiece) {
    ByteSpan piece = aad.subspan(off, std::min(kMaxPiece, aad.size() - off));
    int n = 0;
    if (EVP_CipherUpdate(ctx, nullptr, &n, U8(piece), static_cast<int>(piece.size())) != 1) {
      Die("AES-256-GCM aad");
    }
  }
}

// GCM is a stream mode: out receives exactly in.size() bytes.
void RunGcm(EVP_CIPHER_CTX* ctx, ByteSpan in, std::byte* out) {
  for (size_t off = 0; off < in.size(); off += kMaxPiece) {
    ByteSpan piece = in.subspan(off, std::min(kMaxPiece, in.size() - off));
    int n = 0;
    auto* dst = reinterpret_cast<unsigned char*>(out + off);
    if (EVP_CipherUpdate(ctx, dst, &n, U8(piece), static_cast<int>(piece.size())) != 1) {
      Die("AES-256-GCM update");
    }
  }
}

Key256 PayloadKey(const Key256& master, ByteSpan salt) {
  return KeyedHasher(master).Derive(kSealLabel, salt);
}

Status CheckScryptParams(const ScryptParams& p) {
  if (p.n < 2 || !std::has_single_bit(p.n) || p.n > kMaxScryptN) {
    return Status::InvalidArgument("scrypt: n must be a power of two in [2, 2^22]");
  }
  if (p.r == 0 || p.p == 0 || uint64_t{p.r} * p.p > kMaxScryptRP) {
    return Status::InvalidArgument("scrypt: r and p must be >= 1 with r * p <= 64");
  }
  if (128 * p.n * p.r > kMaxScryptMemory) {
    return Status::InvalidArgument("scrypt: 128 * n * r exceeds 1 GiB");
  }
  return Status::OK();
}

}  // namespace

void RandomBytes(MutableByteSpan out) {
  for (size_t off = 0; off < out.size(); off += kMaxPiece) {
    MutableByteSpan piece = out.subspan(off, std::min(kMaxPiece, out.size() - off));
    if (RAND_bytes(U8(piece), static_cast<int>(piece.size())) != 1) Die("RAND_bytes");
  }
}

// Bumped in every forked child (pthread_atfork), so that a pool of random
// bytes filled before a fork is never drawn from after it: a getpid() per
// payload was one system call per chunk.
namespace {

std::atomic<uint64_t> fork_generation{1};

uint64_t ForkGeneration() {
  static const bool registered = ::pthread_atfork(nullptr, nullptr, [] {
    fork_generation.fetch_add(1, std::memory_order_relaxed);
  }) == 0;
  if (!registered) Die("pthread_atfork");
  return fork_generation.load(std::memory_order_relaxed);
}

}  // namespace

// Random bytes for salts and nonces, drawn from RAND_bytes a page at a
// time: one call per payload cost more than sealing a small one. A forked
// child refills (it must never hand out its parent's bytes).
static void SealRandomBytes(MutableByteSpan out) {
  struct Pool {
    std::array<std::byte, 4096> bytes;
    size_t used = sizeof bytes;
    uint64_t generation = 0;
  };
  thread_local Pool pool;
  uint64_t generation = ForkGeneration();
  if (pool.used + out.size() > pool.bytes.size() || pool.generation != generation) {
    RandomBytes(pool.bytes);
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out.data(), pool.bytes.data() + pool.used, out.size());
  OPENSSL_cleanse(pool.bytes.data() + pool.used, out.size());
  pool.used += out.size();
}

Key256 RandomKey() {
  Key256 k;
  RandomBytes(k);
  return k;
}

std::array<std::byte, 32> Sha256(ByteSpan data) {
  std::array<std::byte, 32> out;
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), U8(MutableByteSpan(out)), &n, Sha256Md(), nullptr) !=
      1) {
    Die("SHA256");
  }
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) != 1) Die("SHA256 init");
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(ctx_); }

void Sha256Stream::Update(ByteSpan data) {
  while (!data.empty()) {
    size_t n = std::min(data.size(), kMaxPiece);
    if (EVP_DigestUpdate(ctx_, data.data(), n) != 1) Die("SHA256 update");
    data = data.subspan(n);
  }
}

std::array<std::byte, 32> Sha256Stream::Finish() {
  std::array<std::byte, 32> out;
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_, U8(MutableByteSpan(out)), &n) != 1 || n != out.size()) {
    Die("SHA256 final");
  }
  return out;
}

KeyedHasher::KeyedHasher(const Key256& key) : key_(key) {}

ChunkId KeyedHasher::Hash(ByteSpan data) const {
  ThreadMac& mac = ThreadMac::Get();
  mac.Start(key_);
  mac.Update(data);
  ChunkId id;
  id.bytes = mac.Finish();
  return id;
}

Key256 KeyedHasher::Derive(std::string_view label, ByteSpan data) const {
  ThreadMac& mac = ThreadMac::Get();
  mac.Start(key_);
  mac.Update(AsBytes(label));
  mac.Update(data);
  return mac.Finish();
}

Sealer::Sealer(const Key256& master) : master_(master) {}

void Sealer::Seal(ByteSpan plain, ByteSpan aad, Buffer* out) const {
  size_t start = out->size();
  out->resize(start + kOverhead + plain.size());
  SealInto(plain, aad, MutableByteSpan(*out).subspan(start));
}

void Sealer::SealInto(ByteSpan plain, ByteSpan aad, MutableByteSpan dst) const {
  if (dst.size() != plain.size() + kOverhead) Die("SealInto: output of the wrong size");
  SealRandomBytes(dst.first(kSaltSize + kNonceSize));
  ByteSpan salt = dst.first(kSaltSize);
  ByteSpan nonce = dst.subspan(kSaltSize, kNonceSize);

  Key256 key = PayloadKey(master_, salt);
  EVP_CIPHER_CTX* ctx = ThreadGcm();
  StartGcm(ctx, key, nonce, 1, aad);
  OPENSSL_cleanse(key.data(), key.size());
  RunGcm(ctx, plain, dst.data() + kSaltSize + kNonceSize);
  unsigned char none[16];  // GCM's final step emits no bytes, only the tag
  int n = 0;
  unsigned char* tag = U8(dst.last(kTagSize));
  if (EVP_CipherFinal_ex(ctx, none, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) {
    Die("AES-256-GCM final");
  }
}

Result<Buffer> Sealer::Open(ByteSpan sealed, ByteSpan aad) const {
  Buffer plain;
  SNAP_ASSIGN_OR_RETURN(ByteSpan opened, OpenInto(sealed, aad, &plain));
  plain.resize(opened.size());
  return plain;
}

Result<ByteSpan> Sealer::OpenInto(ByteSpan sealed, ByteSpan aad, Buffer* scratch) const {
  if (sealed.size() < kOverhead) {
    return Status::Corruption("sealed payload: " + std::to_string(sealed.size()) +
                              " bytes is shorter than the envelope");
  }
  ByteSpan salt = sealed.first(kSaltSize);
  ByteSpan nonce = sealed.subspan(kSaltSize, kNonceSize);
  ByteSpan ct = sealed.subspan(kSaltSize + kNonceSize, sealed.size() - kOverhead);
  std::array<unsigned char, kTagSize> tag;
  std::memcpy(tag.data(), sealed.last(kTagSize).data(), kTagSize);

  Key256 key = PayloadKey(master_, salt);
  EVP_CIPHER_CTX* ctx = ThreadGcm();
  StartGcm(ctx, key, nonce, 0, aad);
  OPENSSL_cleanse(key.data(), key.size());
  MutableByteSpan plain = Grow(scratch, ct.size());
  RunGcm(ctx, ct, plain.data());
  unsigned char none[16];
  int n = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1 ||
      EVP_CipherFinal_ex(ctx, none, &n) != 1) {
    // Never hand out unauthenticated plaintext, not even in a discarded buffer.
    OPENSSL_cleanse(plain.data(), plain.size());
    return Status::Corruption("sealed payload: authentication failed");
  }
  return ByteSpan(plain);
}

Result<Key256> DeriveFromPassphrase(std::string_view passphrase, ByteSpan salt,
                                    const ScryptParams& params) {
  SNAP_RETURN_IF_ERROR(CheckScryptParams(params));
  // OpenSSL refuses unless maxmem covers V (128*r*n) plus B (128*r*p).
  uint64_t need = 128 * uint64_t{params.r} * (params.n + params.p + 2);
  uint64_t maxmem = std::max(kMinScryptMaxmem, need + (uint64_t{1} << 20));
  Key256 key;
  if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), U8(salt), salt.size(), params.n,
                     params.r, params.p, maxmem, U8(MutableByteSpan(key)), key.size()) != 1) {
    return Status::Unavailable("scrypt: key derivation failed (out of memory?)");
  }
  return key;
}

}  // namespace snap::engine::codec
