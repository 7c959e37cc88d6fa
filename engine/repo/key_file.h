// Key file: the repository's master keys, wrapped (FORMAT.md "Key file").
//
// The master keys are three 32-byte secrets: the AEAD master key, the ID key
// (chunk IDs are HMACs under it) and the gear seed (chunk boundaries). They
// are wrapped by a key-encryption key (KEK) derived from a passphrase with
// scrypt, or read from a separate key file outside the repository; an
// unencrypted repository stores them in clear (it has nothing to hide, but
// its IDs still need a key).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/bytes.h"
#include "engine/codec/crypto.h"
#include "engine/result.h"

namespace snap::engine::repo {

inline constexpr uint32_t kKeyFileVersion = 1;  // On disk.
inline constexpr char kKeyFileMagic[8] = {'S', 'N', 'A', 'P', 'K', 'E', 'Y', 'S'};

struct MasterKeys {
  codec::Key256 seal{};      // AEAD master key (payloads, snapshot records)
  codec::Key256 id{};        // HMAC key for chunk IDs
  codec::Key256 gear_seed{};  // seeds the chunker's gear table

  static MasterKeys Generate();
};

// How the master keys are wrapped. On disk: never renumber.
enum class WrapKind : uint8_t {
  kClear = 0,       // unencrypted repository
  kPassphrase = 1,  // KEK = scrypt(passphrase, salt)
  kKeyFile = 2,     // KEK = 32 bytes read from an external key file
};

struct KeyFile {
  WrapKind wrap = WrapKind::kKeyFile;
  codec::ScryptParams scrypt;
  std::array<std::byte, 16> salt{};
  Buffer blob;  // sealed (or, kClear, plain) 96 bytes of MasterKeys

  void EncodeTo(Buffer* out) const;
  static Result<KeyFile> Decode(ByteSpan in);

  // Wraps `keys` under `kek` (ignored for kClear). `repo_id` is the AEAD's
  // associated data, so a key file cannot be moved to another repository.
  static KeyFile Wrap(const MasterKeys& keys, WrapKind wrap, const codec::Key256& kek,
                      ByteSpan repo_id);
  // InvalidArgument ("wrong passphrase or key file") when the KEK does not
  // open it: the user gave the wrong secret, the file is not damaged.
  Result<MasterKeys> Unwrap(const codec::Key256& kek, ByteSpan repo_id) const;
};

// An external key file holds the KEK as 64 hex digits and a newline.
std::string EncodeKekFile(const codec::Key256& kek);
Result<codec::Key256> DecodeKekFile(std::string_view text);

}  // namespace snap::engine::repo
