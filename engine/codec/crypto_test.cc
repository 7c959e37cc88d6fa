#include "engine/codec/crypto.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"

namespace snap::engine::codec {
namespace {

// HMAC zero-pads keys shorter than a block, so a short RFC key padded into
// a Key256 gives the RFC's result.
Key256 PaddedKey(ByteSpan k) {
  Key256 key{};
  std::copy(k.begin(), k.end(), key.begin());
  return key;
}

Key256 KeyOf(uint8_t fill) {
  Key256 k;
  k.fill(std::byte{fill});
  return k;
}

TEST(Sha256, MatchesFips180Vector) {
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ToHex(Sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(KeyedHasher, MatchesRfc4231TestCase1) {
  Buffer key(20, std::byte{0x0b});
  KeyedHasher h(PaddedKey(key));
  EXPECT_EQ(h.Hash(AsBytes("Hi There")).ToHex(),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(KeyedHasher, MatchesRfc4231TestCase2) {
  KeyedHasher h(PaddedKey(AsBytes("Jefe")));
  EXPECT_EQ(h.Hash(AsBytes("what do ya want for nothing?")).ToHex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(KeyedHasher, InterleavingMoreKeysThanTheThreadCacheHoldsGivesStableResults) {
  Buffer key1(20, std::byte{0x0b});
  KeyedHasher rfc1(PaddedKey(key1)), rfc2(PaddedKey(AsBytes("Jefe"))), other(KeyOf(1));
  const ChunkId other_want = other.Hash(AsBytes("data"));
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(rfc1.Hash(AsBytes("Hi There")).ToHex(),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(other.Hash(AsBytes("data")), other_want);
    EXPECT_EQ(rfc2.Hash(AsBytes("what do ya want for nothing?")).ToHex(),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(rfc2.Hash(AsBytes("what do ya want for nothing?")).ToHex(),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  EXPECT_NE(KeyedHasher(KeyOf(2)).Hash(AsBytes("data")), other_want);
}

TEST(KeyedHasher, DeriveIsHmacOverLabelThenData) {
  KeyedHasher h(KeyOf(3));
  Key256 d = h.Derive("label", AsBytes("data"));
  EXPECT_EQ(ToHex(d), h.Hash(AsBytes("labeldata")).ToHex());
}

TEST(KeyedHasher, IsSafeToUseFromSeveralThreads) {
  const KeyedHasher a(KeyOf(4)), b(KeyOf(5));
  Buffer data(100000, std::byte{7});
  const ChunkId want_a = a.Hash(data), want_b = b.Hash(data);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (a.Hash(data) != want_a || b.Hash(data) != want_b) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(bad[t], 0);
}

TEST(RandomBytes, FillsDistinctKeys) { EXPECT_NE(RandomKey(), RandomKey()); }

TEST(Sealer, RoundTrips) {
  Sealer s(KeyOf(9));
  Buffer plain = ToBuffer("the quick brown fox");
  Buffer sealed;
  s.Seal(plain, AsBytes("aad"), &sealed);
  EXPECT_EQ(sealed.size(), plain.size() + Sealer::kOverhead);
  Result<Buffer> back = s.Open(sealed, AsBytes("aad"));
  ASSERT_OK(back);
  EXPECT_EQ(*back, plain);
}

TEST(Sealer, OpensTheWorkedExampleOfTheFormat) {
  // FORMAT.md "Sealed payload": master 00..1f, salt 10..1f, nonce a0..ab,
  // aad "chunk-id", plaintext "hello" (computed independently in Python).
  Key256 master;
  for (size_t i = 0; i < master.size(); ++i) master[i] = std::byte(i);
  Buffer sealed;
  ASSERT_TRUE(
      FromHex("101112131415161718191a1b1c1d1e1f"
              "a0a1a2a3a4a5a6a7a8a9aaab"
              "302612ffc3"
              "cbd64845538f2a11db6243842ec0d223",
              &sealed));
  Result<Buffer> plain = Sealer(master).Open(sealed, AsBytes("chunk-id"));
  ASSERT_OK(plain);
  EXPECT_EQ(AsChars(*plain), "hello");
  EXPECT_EQ(ToHex(KeyedHasher(master).Derive("snapctl-seal-v1", ByteSpan(sealed).first(16))),
            "e05550636e3c4f024ab8e016075d34a488d10c26482aa95f436d6cb5c5df34eb");
}

TEST(Sealer, RoundTripsEmptyPlaintextAndEmptyAad) {
  Sealer s(KeyOf(9));
  Buffer sealed;
  s.Seal({}, {}, &sealed);
  ASSERT_EQ(sealed.size(), Sealer::kOverhead);
  Result<Buffer> back = s.Open(sealed, {});
  ASSERT_OK(back);
  EXPECT_TRUE(back->empty());
}

TEST(Sealer, RoundTripsALargePayload) {
  Sealer s(KeyOf(9));
  Buffer plain(3 << 20);
  RandomBytes(plain);
  Buffer sealed;
  s.Seal(plain, AsBytes("id"), &sealed);
  Result<Buffer> back = s.Open(sealed, AsBytes("id"));
  ASSERT_OK(back);
  EXPECT_EQ(*back, plain);
}

TEST(Sealer, AppendsAfterExistingBytes) {
  Sealer s(KeyOf(9));
  Buffer out = ToBuffer("header");
  s.Seal(AsBytes("payload"), {}, &out);
  ASSERT_EQ(AsChars(ByteSpan(out).first(6)), "header");
  Result<Buffer> back = s.Open(ByteSpan(out).subspan(6), {});
  ASSERT_OK(back);
  EXPECT_EQ(AsChars(*back), "payload");
}

TEST(Sealer, TamperingWithAnyByteIsCorruption) {
  Sealer s(KeyOf(9));
  Buffer sealed;
  s.Seal(AsBytes("sixteen byte msg"), AsBytes("aad"), &sealed);
  for (size_t i = 0; i < sealed.size(); ++i) {
    Buffer bad = sealed;
    bad[i] ^= std::byte{0x01};
    Result<Buffer> r = s.Open(bad, AsBytes("aad"));
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_TRUE(r.status().IsCorruption());
    EXPECT_EQ(r.status().message(), "sealed payload: authentication failed");
  }
}

TEST(Sealer, WrongAadIsCorruption) {
  Sealer s(KeyOf(9));
  Buffer sealed;
  s.Seal(AsBytes("payload"), AsBytes("chunk A"), &sealed);
  EXPECT_TRUE(s.Open(sealed, AsBytes("chunk B")).status().IsCorruption());
  EXPECT_TRUE(s.Open(sealed, {}).status().IsCorruption());
}

TEST(Sealer, WrongKeyIsCorruption) {
  Buffer sealed;
  Sealer(KeyOf(9)).Seal(AsBytes("payload"), {}, &sealed);
  EXPECT_TRUE(Sealer(KeyOf(10)).Open(sealed, {}).status().IsCorruption());
}

TEST(Sealer, TruncatedInputIsCorruption) {
  Sealer s(KeyOf(9));
  Buffer sealed;
  s.Seal(AsBytes("payload"), {}, &sealed);
  for (size_t n : {size_t{0}, Sealer::kOverhead - 1, sealed.size() - 1}) {
    EXPECT_TRUE(s.Open(ByteSpan(sealed).first(n), {}).status().IsCorruption()) << n;
  }
}

TEST(Sealer, TwoSealsOfTheSamePlaintextDiffer) {
  Sealer s(KeyOf(9));
  Buffer x, y;
  s.Seal(AsBytes("same"), AsBytes("aad"), &x);
  s.Seal(AsBytes("same"), AsBytes("aad"), &y);
  EXPECT_NE(x, y);
  // Salt and nonce both fresh.
  EXPECT_NE(ToHex(ByteSpan(x).first(16)), ToHex(ByteSpan(y).first(16)));
  EXPECT_NE(ToHex(ByteSpan(x).subspan(16, 12)), ToHex(ByteSpan(y).subspan(16, 12)));
}

// A forked child must not seal with the salts and nonces its parent draws
// next: the pool of random bytes is refilled after a fork.
TEST(Sealer, AForkedChildDrawsOtherSaltsThanItsParent) {
  Sealer s(KeyOf(9));
  Buffer before;
  s.Seal(AsBytes("x"), AsBytes("aad"), &before);  // the pool now holds bytes
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Buffer child;
    s.Seal(AsBytes("x"), AsBytes("aad"), &child);
    ssize_t n = ::write(fds[1], child.data(), 28);
    ::_exit(n == 28 ? 0 : 1);
  }
  ::close(fds[1]);
  std::byte child_salt[28];
  ssize_t got = ::read(fds[0], child_salt, sizeof child_salt);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, 28);
  Buffer parent;
  s.Seal(AsBytes("x"), AsBytes("aad"), &parent);
  EXPECT_NE(ToHex(ByteSpan(child_salt, 28)), ToHex(ByteSpan(parent).first(28)));
}

TEST(Scrypt, MatchesRfc7914Vector) {
  ScryptParams p{.n = 16, .r = 1, .p = 1};
  Result<Key256> k = DeriveFromPassphrase("", {}, p);
  ASSERT_OK(k);
  // The RFC lists 64 bytes; the first 32 are the 32-byte output.
  EXPECT_EQ(ToHex(*k), "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442");
}

TEST(Scrypt, DefaultParamsRunWithinTheMemoryLimit) {
  Result<Key256> k = DeriveFromPassphrase("correct horse", AsBytes("salt"), ScryptParams{});
  ASSERT_OK(k);
  Result<Key256> k2 = DeriveFromPassphrase("correct horse", AsBytes("pepper"), ScryptParams{});
  ASSERT_OK(k2);
  EXPECT_NE(*k, *k2);
}

TEST(Scrypt, RejectsAbsurdParameters) {
  const ScryptParams bad[] = {
      {.n = 0, .r = 8, .p = 1},
      {.n = 1, .r = 8, .p = 1},
      {.n = 1000, .r = 8, .p = 1},
      {.n = uint64_t{1} << 23, .r = 1, .p = 1},
      {.n = 1024, .r = 0, .p = 1},
      {.n = 1024, .r = 8, .p = 0},
      {.n = 1024, .r = 8, .p = 16},
      {.n = uint64_t{1} << 22, .r = 8, .p = 1},
      {.n = uint64_t{1} << 63, .r = 1, .p = 1},
  };
  for (const ScryptParams& p : bad) {
    Result<Key256> k = DeriveFromPassphrase("pw", AsBytes("salt"), p);
    ASSERT_FALSE(k.ok()) << p.n << "/" << p.r << "/" << p.p;
    EXPECT_TRUE(k.status().IsInvalidArgument());
  }
}

}  // namespace
}  // namespace snap::engine::codec
