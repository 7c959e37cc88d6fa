// Keyed hashing, sealing, key derivation and randomness (OpenSSL 3 EVP).
//
// Every class here is immutable after construction and safe to use from
// several threads at once (each call builds its own EVP context, or uses a
// thread-local one).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace snap::engine::codec {

using Key256 = std::array<std::byte, 32>;

// Fills `out` with bytes from OpenSSL's CSPRNG. Aborts the process if the
// CSPRNG fails: nothing safe can continue without it.
void RandomBytes(MutableByteSpan out);
Key256 RandomKey();

// Plain SHA-256 (pack names, fingerprints).
std::array<std::byte, 32> Sha256(ByteSpan data);

// The same over bytes that arrive in pieces (a pack streamed to disk as it
// fills). One thread at a time; Finish ends it.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(ByteSpan data);
  std::array<std::byte, 32> Finish();

 private:
  ::evp_md_ctx_st* ctx_;
};

// HMAC-SHA-256 under a fixed key: chunk, tree and snapshot IDs.
class KeyedHasher {
 public:
  explicit KeyedHasher(const Key256& key);
  ChunkId Hash(ByteSpan data) const;
  // HMAC over a label followed by data, for deriving sub-keys.
  Key256 Derive(std::string_view label, ByteSpan data) const;

 private:
  Key256 key_;
};

// AEAD sealing of payloads with AES-256-GCM (see FORMAT.md "Sealed payload"):
//   sealed = salt(16) | nonce(12) | ciphertext | tag(16)
// The cipher key of each payload is HMAC-SHA-256(master, "snapctl-seal-v1" | salt) with
// a fresh random salt, so nonce reuse under one cipher key needs a 128-bit
// salt collision *and* a 96-bit nonce collision. `aad` (e.g. the chunk ID)
// is authenticated, binding a payload to the name it is stored under.
class Sealer {
 public:
  static constexpr size_t kOverhead = 16 + 12 + 16;

  explicit Sealer(const Key256& master);
  // Appends the sealed form of `plain` to *out.
  void Seal(ByteSpan plain, ByteSpan aad, Buffer* out) const;
  // The same into `out`, which must hold exactly plain.size() + kOverhead bytes.
  void SealInto(ByteSpan plain, ByteSpan aad, MutableByteSpan out) const;
  // Corruption when the tag does not verify (wrong key, tampered bytes or
  // another aad) or `sealed` is shorter than kOverhead.
  Result<Buffer> Open(ByteSpan sealed, ByteSpan aad) const;
  // The same into the first bytes of *scratch (see Grow), returned.
  Result<ByteSpan> OpenInto(ByteSpan sealed, ByteSpan aad, Buffer* scratch) const;

 private:
  Key256 master_;
};

// scrypt parameters; stored in the key file (FORMAT.md "Key file").
struct ScryptParams {
  uint64_t n = 1u << 17;  // 128 MiB with r = 8
  uint32_t r = 8;
  uint32_t p = 1;
};

// Derives a 32-byte key from a passphrase with scrypt (memory-hard).
Result<Key256> DeriveFromPassphrase(std::string_view passphrase, ByteSpan salt,
                                    const ScryptParams& params);

}  // namespace snap::engine::codec
