// libFuzzer target for the key file decoders: KeyFile::Decode (the wrapped
// master keys) and DecodeKekFile (an external KEK as hex text). Random bytes
// rarely carry a matching XXH3, so each input is also tried with its
// trailing checksum repaired, which lets the fuzzer reach the fields behind
// it. Whatever decodes must re-encode to bytes that decode equal, and a
// decoded key file is unwrapped with a fixed KEK (hostile sealed blob).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fuzz/fuzz_support.h"
#include "engine/repo/key_file.h"

namespace {

using namespace snap::engine;
namespace fuzz = snap::fuzz;
using repo::KeyFile;

void Check(bool ok, const char* what) { fuzz::Check(ok, "key_file_fuzz", what); }

bool Same(const KeyFile& a, const KeyFile& b) {
  return a.wrap == b.wrap && a.scrypt.n == b.scrypt.n && a.scrypt.r == b.scrypt.r &&
         a.scrypt.p == b.scrypt.p && a.salt == b.salt && a.blob == b.blob;
}

void DecodeKeyFile(ByteSpan in) {
  Result<KeyFile> k = KeyFile::Decode(in);
  if (!k.ok()) return;
  Buffer encoded;
  k->EncodeTo(&encoded);
  Result<KeyFile> again = KeyFile::Decode(encoded);
  Check(again.ok() && Same(*again, *k), "re-encoded key file does not decode equal");
  Buffer twice;
  again->EncodeTo(&twice);
  Check(twice == encoded, "key file encoding is not stable");
  const codec::Key256 kek{};
  const std::byte repo_id[16] = {};
  (void)k->Unwrap(kek, repo_id);
}

void DecodeKek(std::string_view text) {
  Result<codec::Key256> kek = repo::DecodeKekFile(text);
  if (!kek.ok()) return;
  Result<codec::Key256> again = repo::DecodeKekFile(repo::EncodeKekFile(*kek));
  Check(again.ok() && *again == *kek, "re-encoded KEK file does not decode equal");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  DecodeKek(AsChars(in));
  snap::fuzz::WithRepairedChecksum(in, DecodeKeyFile);
  return 0;
}
