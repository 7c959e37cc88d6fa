#include "replicator/protocol/messages.h"

#include <gtest/gtest.h>

#include <string>

#include "replicator/protocol/protocol_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::protocol {
namespace {

using engine::ToHex;
using namespace test;

// Every proper prefix of a valid body is truncated, and one extra byte is
// trailing: both must fail. SnapshotObjectMessage takes "the rest" and is
// tested apart.
template <typename T>
void ExpectExactBodyRequired(const Buffer& body) {
  ASSERT_OK(T::Decode(body));
  for (size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(T::Decode(ByteSpan(body).first(n)).ok()) << "prefix " << n;
  }
  Buffer longer = body;
  longer.push_back(std::byte{0});
  ExpectCorrupt(T::Decode(longer), "1 trailing bytes");
}

// ---- framing ----

TEST(Messages, TypeNamesAreTheProtocolNames) {
  EXPECT_STREQ(MessageTypeName(MessageType::kHello), "HELLO");
  EXPECT_STREQ(MessageTypeName(MessageType::kHaveReply), "HAVE_REPLY");
  EXPECT_STREQ(MessageTypeName(MessageType::kCommitSnapshot), "COMMIT_SNAPSHOT");
  EXPECT_STREQ(MessageTypeName(MessageType::kGetChunks), "GET_CHUNKS");
  EXPECT_STREQ(MessageTypeName(MessageType::kBye), "BYE");
  EXPECT_STREQ(MessageTypeName(static_cast<MessageType>(0)), "UNKNOWN");
  EXPECT_STREQ(MessageTypeName(static_cast<MessageType>(99)), "UNKNOWN");
}

TEST(Messages, MessageIsTypeThenLittleEndianLengthThenBody) {
  Buffer out = Bytes({0xee});
  EncodeMessage(MessageType::kHave, Bytes({1, 2, 3}), &out);
  EXPECT_EQ(out, Bytes({0xee, 11, 3, 0, 0, 0, 1, 2, 3}));
}

std::string MessageHex(MessageType type, const Buffer& body) {
  Buffer msg;
  EncodeMessage(type, body, &msg);
  return ToHex(msg);
}

// The worked example of FORMAT.md "Replication protocol", message by message.
TEST(Messages, WorkedExampleHasTheDocumentedBytes) {
  EXPECT_EQ(MessageHex(MessageType::kHello, Encoded(SampleHello())),
            "0125000000"                          // HELLO, body 37 bytes
            "534e415052504c43"                    // "SNAPRPLC"
            "01000000"                            // version 1
            "02"                                  // role read
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"    // repository ID
            "04000000" "77656231");               // "web1"
  EXPECT_EQ(MessageHex(MessageType::kWelcome, Encoded(Welcome{1, true, "r1"})),
            "020b000000" "01000000" "01" "02000000" "7231");
  EXPECT_EQ(MessageHex(MessageType::kListSnapshots, {}), "1600000000");
  SnapshotList list;
  list.entries = {{Id(0x50), 1763607600000000000, 120}};
  EXPECT_EQ(MessageHex(MessageType::kSnapshotList, Encoded(list)),
            "1730000000" "01000000" + Id(0x50).ToHex() + "00e02da9c4977918" "78000000");
  EXPECT_EQ(MessageHex(MessageType::kGetChunks, Encoded(IdList{{Id(0)}})),
            "1a24000000" "01000000" + Id(0).ToHex());
  EXPECT_EQ(MessageHex(MessageType::kMissing, Encoded(IdMessage{Id(0)})),
            "1b20000000" + Id(0).ToHex());
  EXPECT_EQ(MessageHex(MessageType::kBye, {}), "1e00000000");
  EXPECT_EQ(MessageHex(MessageType::kHave, Encoded(IdList{{Id(0), Id(0x20)}})),
            "0b44000000" "02000000" + Id(0).ToHex() + Id(0x20).ToHex());
  EXPECT_EQ(MessageHex(MessageType::kHaveReply, Encoded(HaveReply{{false, true}})),
            "0c05000000" "02000000" "02");
  EXPECT_EQ(MessageHex(MessageType::kCommitted, Encoded(Committed{Id(0x50), true})),
            "0f21000000" + Id(0x50).ToHex() + "01");
  EXPECT_EQ(MessageHex(MessageType::kError, Encoded(Error{Status::Code::kInvalidArgument,
                                                       "not admitted"})),
            "0311000000" "04" "0c000000" "6e6f742061646d6974746564");
}

// ---- round trips ----

TEST(Messages, HelloRoundTrips) {
  Hello h = SampleHello();
  Result<Hello> back = Hello::Decode(Encoded(h));
  ASSERT_OK(back);
  EXPECT_EQ(back->version, kProtocolVersion);
  EXPECT_EQ(back->role, Role::kRead);
  EXPECT_EQ(back->repo_id, h.repo_id);
  EXPECT_EQ(back->client_name, "web1");
  ExpectExactBodyRequired<Hello>(Encoded(h));
}

TEST(Messages, HelloKeepsAnOtherVersionForTheSessionToJudge) {
  Hello h = SampleHello();
  h.version = 7;
  h.role = Role::kPush;
  Result<Hello> back = Hello::Decode(Encoded(h));
  ASSERT_OK(back);
  EXPECT_EQ(back->version, 7u);
  EXPECT_EQ(back->role, Role::kPush);
}

TEST(Messages, WelcomeRoundTrips) {
  for (bool exists : {false, true}) {
    Welcome w;
    w.repo_exists = exists;
    w.server_name = "replica-1";
    Result<Welcome> back = Welcome::Decode(Encoded(w));
    ASSERT_OK(back);
    EXPECT_EQ(back->version, kProtocolVersion);
    EXPECT_EQ(back->repo_exists, exists);
    EXPECT_EQ(back->server_name, "replica-1");
    ExpectExactBodyRequired<Welcome>(Encoded(w));
  }
}

TEST(Messages, ErrorRoundTripsEveryCode) {
  for (int c = 1; c <= 7; ++c) {
    Error e{static_cast<Status::Code>(c), "not admitted"};
    Result<Error> back = Error::Decode(Encoded(e));
    ASSERT_OK(back);
    EXPECT_EQ(back->code, e.code);
    EXPECT_EQ(back->message, "not admitted");
    Status s = back->ToStatus();
    EXPECT_EQ(s.code(), e.code);
    EXPECT_EQ(s.message(), "replica: not admitted");
  }
  ExpectExactBodyRequired<Error>(Encoded(Error{Status::Code::kNotFound, "x"}));
}

TEST(Messages, IdListRoundTrips) {
  for (size_t n : {0, 1, 3, 1000}) {
    IdList list;
    for (size_t i = 0; i < n; ++i) list.ids.push_back(Id(static_cast<uint8_t>(i)));
    Result<IdList> back = IdList::Decode(Encoded(list));
    ASSERT_OK(back);
    EXPECT_EQ(back->ids, list.ids);
  }
  ExpectExactBodyRequired<IdList>(Encoded(IdList{{Id(1), Id(2)}}));
}

TEST(Messages, IdListTakesExactlyTheLimit) {
  IdList list;
  list.ids.assign(kMaxIdsPerMessage, Id(5));
  Result<IdList> back = IdList::Decode(Encoded(list));
  ASSERT_OK(back);
  EXPECT_EQ(back->ids.size(), kMaxIdsPerMessage);
}

TEST(Messages, HaveReplyRoundTripsAroundByteBoundaries) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{16}, size_t{17},
                   size_t{kMaxIdsPerMessage}}) {
    HaveReply r;
    for (size_t i = 0; i < n; ++i) r.have.push_back(i % 3 == 0);
    Buffer body = Encoded(r);
    EXPECT_EQ(body.size(), 4 + (n + 7) / 8);
    Result<HaveReply> back = HaveReply::Decode(body);
    ASSERT_OK(back);
    EXPECT_EQ(back->have, r.have) << n;
  }
}

TEST(Messages, HaveReplyBitsAreLeastSignificantFirst) {
  HaveReply r{{true, false, false, true, false, false, false, false, true}};
  EXPECT_EQ(Encoded(r), Bytes({9, 0, 0, 0, 0x09, 0x01}));
  ExpectExactBodyRequired<HaveReply>(Encoded(r));
}

TEST(Messages, IdMessageRoundTrips) {
  Result<IdMessage> back = IdMessage::Decode(Encoded(IdMessage{Id(9)}));
  ASSERT_OK(back);
  EXPECT_EQ(back->id, Id(9));
  ExpectExactBodyRequired<IdMessage>(Encoded(IdMessage{Id(9)}));
}

TEST(Messages, SnapshotObjectMessageTakesTheRestAsObject) {
  SnapshotObjectMessage m{Id(3), engine::ToBuffer("object bytes")};
  Result<SnapshotObjectMessage> back = SnapshotObjectMessage::Decode(Encoded(m));
  ASSERT_OK(back);
  EXPECT_EQ(back->id, Id(3));
  EXPECT_EQ(back->object, m.object);
  m.object.clear();
  back = SnapshotObjectMessage::Decode(Encoded(m));
  ASSERT_OK(back);
  EXPECT_TRUE(back->object.empty());
  ExpectCorrupt(SnapshotObjectMessage::Decode(Buffer(31)), "COMMIT_SNAPSHOT/SNAPSHOT: id truncated");
}

TEST(Messages, CommittedRoundTrips) {
  for (bool created : {false, true}) {
    Result<Committed> back = Committed::Decode(Encoded(Committed{Id(4), created}));
    ASSERT_OK(back);
    EXPECT_EQ(back->id, Id(4));
    EXPECT_EQ(back->created, created);
  }
  ExpectExactBodyRequired<Committed>(Encoded(Committed{Id(4), true}));
}

TEST(Messages, SnapshotListRoundTrips) {
  SnapshotList l;
  l.entries = {{Id(1), 1700000000123456789, 120}, {Id(2), -5, 0}, {Id(3), INT64_MAX, UINT32_MAX}};
  Result<SnapshotList> back = SnapshotList::Decode(Encoded(l));
  ASSERT_OK(back);
  EXPECT_EQ(back->entries, l.entries);
  EXPECT_EQ(Encoded(l).size(), 4 + 3 * 44u);
  ExpectExactBodyRequired<SnapshotList>(Encoded(l));
  ASSERT_OK(SnapshotList::Decode(Encoded(SnapshotList{})));
}

// ---- bounds and malformed bodies ----

TEST(Messages, HelloRefusesAnotherMagic) {
  Buffer body = Encoded(SampleHello());
  body[7] = std::byte{'X'};
  ExpectCorrupt(Hello::Decode(body), "HELLO: magic");
}

TEST(Messages, HelloRefusesAnUnknownRole) {
  for (int role : {0, 3, 255}) {
    Buffer body = Encoded(SampleHello());
    body[12] = std::byte(role);
    ExpectCorrupt(Hello::Decode(body), "HELLO: role");
  }
}

TEST(Messages, StringsAreBoundedBeforeTheyAreRead) {
  Buffer body = Encoded(SampleHello());
  body.resize(body.size() - 8);  // drop the name and its length
  Buffer too_long = body;
  AppendU32(kMaxStringLength + 1, &too_long);
  too_long.resize(too_long.size() + kMaxStringLength + 1, std::byte{'a'});
  ExpectCorrupt(Hello::Decode(too_long), "HELLO: client name length 4097 exceeds 4096");

  Buffer lying = body;  // claims 4000 bytes, holds 3
  AppendU32(4000, &lying);
  lying.resize(lying.size() + 3, std::byte{'a'});
  ExpectCorrupt(Hello::Decode(lying), "HELLO: client name truncated");

  Buffer at_limit = body;
  AppendU32(kMaxStringLength, &at_limit);
  at_limit.resize(at_limit.size() + kMaxStringLength, std::byte{'a'});
  Result<Hello> h = Hello::Decode(at_limit);
  ASSERT_OK(h);
  EXPECT_EQ(h->client_name.size(), kMaxStringLength);
}

TEST(Messages, BooleansAreZeroOrOne) {
  Buffer w = Encoded(Welcome{});
  w[4] = std::byte{2};
  ExpectCorrupt(Welcome::Decode(w), "WELCOME: repository exists is 2, not 0 or 1");
  Buffer c = Encoded(Committed{Id(1), true});
  c[32] = std::byte{0xff};
  ExpectCorrupt(Committed::Decode(c), "COMMITTED: created is 255");
}

TEST(Messages, ErrorCodeIsOneOfTheFailureCodes) {
  for (int code : {0, 8, 255}) {
    Buffer body = Encoded(Error{Status::Code::kAborted, "x"});
    body[0] = std::byte(code);
    ExpectCorrupt(Error::Decode(body), "ERROR: code " + std::to_string(code) + " is not in 1..7");
  }
}

TEST(Messages, ErrorMessageIsCutOnEncodeAtACharacterBoundary) {
  // 4095 ASCII bytes then a 2-byte character straddling the limit.
  std::string msg(kMaxStringLength - 1, 'e');
  msg += "\xc3\xa9 and more";
  Result<Error> back = Error::Decode(Encoded(Error{Status::Code::kIOError, msg}));
  ASSERT_OK(back);
  EXPECT_EQ(back->message, std::string(kMaxStringLength - 1, 'e'));
}

TEST(Messages, IdListRefusesMoreThanTheLimit) {
  Buffer body;
  AppendU32(70000, &body);
  ExpectCorrupt(IdList::Decode(body), "HAVE/GET_CHUNKS: count 70000 exceeds 65536");
}

TEST(Messages, IdListRefusesACountTheBodyCannotHold) {
  Buffer body;
  AppendU32(kMaxIdsPerMessage, &body);  // 2 MiB promised, 64 bytes given
  body.resize(body.size() + 64);
  ExpectCorrupt(IdList::Decode(body), "count 65536 needs 2097152 bytes, 64 left");
}

TEST(Messages, HaveReplyRefusesMoreThanTheLimit) {
  Buffer body;
  AppendU32(kMaxIdsPerMessage + 1, &body);
  body.resize(body.size() + (kMaxIdsPerMessage + 8) / 8);
  ExpectCorrupt(HaveReply::Decode(body), "HAVE_REPLY: count 65537 exceeds 65536");
}

TEST(Messages, HaveReplyRefusesAShortBitmap) {
  Buffer body;
  AppendU32(17, &body);
  body.resize(body.size() + 2);
  ExpectCorrupt(HaveReply::Decode(body), "HAVE_REPLY: bitmap truncated");
}

TEST(Messages, HaveReplyRefusesUnusedBitsSet) {
  Buffer body = Bytes({3, 0, 0, 0, 0x08});
  ExpectCorrupt(HaveReply::Decode(body), "HAVE_REPLY: bitmap unused bits set");
  body = Bytes({3, 0, 0, 0, 0x07});
  ASSERT_OK(HaveReply::Decode(body));
}

TEST(Messages, SnapshotListRefusesMoreThanTheLimit) {
  Buffer body;
  AppendU32(kMaxSnapshotsPerList + 1, &body);
  ExpectCorrupt(SnapshotList::Decode(body), "SNAPSHOT_LIST: count 1048577 exceeds 1048576");
  body.clear();
  AppendU32(kMaxSnapshotsPerList, &body);
  ExpectCorrupt(SnapshotList::Decode(body), "SNAPSHOT_LIST: count 1048576 needs");
}

TEST(Messages, IdMessageIsExactlyOneId) {
  ExpectCorrupt(IdMessage::Decode(Buffer(33)), "GET_SNAPSHOT/MISSING: 1 trailing bytes");
  ExpectCorrupt(IdMessage::Decode(Buffer()), "GET_SNAPSHOT/MISSING: id truncated");
}

}  // namespace
}  // namespace snap::replicator::protocol
