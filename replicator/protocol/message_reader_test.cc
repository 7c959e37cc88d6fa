#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "replicator/protocol/messages.h"
#include "replicator/protocol/protocol_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::protocol {
namespace {

using namespace test;

// Three messages, one with an empty body, as a byte stream.
Buffer SampleStream() {
  Buffer s;
  EncodeMessage(MessageType::kHello, Encoded(SampleHello()), &s);
  EncodeMessage(MessageType::kBye, {}, &s);
  EncodeMessage(MessageType::kHave, Encoded(IdList{{Id(1), Id(2), Id(3)}}), &s);
  return s;
}

void ExpectSampleMessages(const std::vector<Message>& got) {
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, MessageType::kHello);
  EXPECT_EQ(got[0].body, Encoded(SampleHello()));
  EXPECT_EQ(got[1].type, MessageType::kBye);
  EXPECT_TRUE(got[1].body.empty());
  EXPECT_EQ(got[2].type, MessageType::kHave);
  EXPECT_EQ(got[2].body, Encoded(IdList{{Id(1), Id(2), Id(3)}}));
}

// Feeds `stream` in pieces of the cycling sizes, draining after each piece.
std::vector<Message> ReadInPieces(const Buffer& stream, const std::vector<size_t>& sizes) {
  MessageReader reader;
  std::vector<Message> got;
  size_t pos = 0;
  for (size_t i = 0; pos < stream.size(); ++i) {
    size_t n = std::min(sizes[i % sizes.size()], stream.size() - pos);
    reader.Feed(ByteSpan(stream).subspan(pos, n));
    pos += n;
    for (;;) {
      Result<std::optional<Message>> m = reader.Next();
      EXPECT_OK(m);
      if (!m.ok() || !m->has_value()) break;
      got.push_back(std::move(**m));
    }
    EXPECT_GT(reader.BytesWanted(), 0u);
  }
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.BytesWanted(), kMessageHeaderSize);
  return got;
}

TEST(MessageReader, ReadsAStreamFedByteByByte) {
  ExpectSampleMessages(ReadInPieces(SampleStream(), {1}));
}

TEST(MessageReader, ReadsAStreamFedInOddSplits) {
  for (const auto& sizes : std::vector<std::vector<size_t>>{
           {2}, {3, 7}, {4, 5, 6}, {13}, {42}, {46, 1}, {1000}}) {
    ExpectSampleMessages(ReadInPieces(SampleStream(), sizes));
  }
}

TEST(MessageReader, ReadsEverythingFedAtOnce) {
  MessageReader reader;
  reader.Feed(SampleStream());
  EXPECT_EQ(reader.BytesWanted(), 0u);
  std::vector<Message> got;
  for (;;) {
    Result<std::optional<Message>> m = reader.Next();
    ASSERT_OK(m);
    if (!m->has_value()) break;
    got.push_back(std::move(**m));
  }
  ExpectSampleMessages(got);
}

TEST(MessageReader, BytesWantedCountsDownToAWholeMessage) {
  Buffer stream;
  EncodeMessage(MessageType::kGetSnapshot, Encoded(IdMessage{Id(1)}), &stream);
  MessageReader reader;
  EXPECT_EQ(reader.BytesWanted(), 5u);
  reader.Feed(ByteSpan(stream).first(3));
  EXPECT_EQ(reader.BytesWanted(), 2u);
  reader.Feed(ByteSpan(stream).subspan(3, 2));
  EXPECT_EQ(reader.BytesWanted(), 32u);
  reader.Feed(ByteSpan(stream).subspan(5, 31));
  EXPECT_EQ(reader.BytesWanted(), 1u);
  Result<std::optional<Message>> m = reader.Next();
  ASSERT_OK(m);
  EXPECT_FALSE(m->has_value());
  reader.Feed(ByteSpan(stream).subspan(36));
  EXPECT_EQ(reader.BytesWanted(), 0u);
  m = reader.Next();
  ASSERT_OK(m);
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->type, MessageType::kGetSnapshot);
}

TEST(MessageReader, RefusesAnOversizedBodyAtTheHeader) {
  Buffer header = Bytes({13});
  AppendU32(kMaxBodyLength + 1, &header);
  MessageReader reader;
  reader.Feed(ByteSpan(header).first(4));
  Result<std::optional<Message>> m = reader.Next();
  ASSERT_OK(m);  // not yet a whole header
  reader.Feed(ByteSpan(header).subspan(4));
  EXPECT_EQ(reader.BytesWanted(), 0u);
  ExpectCorrupt(reader.Next(), "FRAME body length 100663297 exceeds 100663296");
  // The stream stays unusable, and what follows is not kept.
  reader.Feed(Bytes({1, 2, 3}));
  EXPECT_EQ(reader.buffered(), kMessageHeaderSize);
  ExpectCorrupt(reader.Next(), "exceeds");
}

TEST(MessageReader, AcceptsAHeaderAtTheBodyLimit) {
  Buffer header = Bytes({13});
  AppendU32(kMaxBodyLength, &header);
  MessageReader reader;
  reader.Feed(header);
  Result<std::optional<Message>> m = reader.Next();
  ASSERT_OK(m);
  EXPECT_FALSE(m->has_value());
  EXPECT_EQ(reader.BytesWanted(), kMaxBodyLength);
}

TEST(MessageReader, RefusesAnUnknownTypeAtTheHeader) {
  for (int type : {0, 4, 9, 16, 31, 255}) {
    MessageReader reader;
    Buffer header = Bytes({type, 1, 0, 0, 0});
    reader.Feed(header);
    ExpectCorrupt(reader.Next(), "unknown type " + std::to_string(type));
  }
}

TEST(MessageReader, RefusesABadHeaderAfterGoodMessages) {
  Buffer stream = SampleStream();
  Buffer bad = Cat(stream, Bytes({99, 0, 0, 0, 0}));
  MessageReader reader;
  reader.Feed(bad);
  for (int i = 0; i < 3; ++i) {
    Result<std::optional<Message>> m = reader.Next();
    ASSERT_OK(m);
    ASSERT_TRUE(m->has_value());
  }
  ExpectCorrupt(reader.Next(), "unknown type 99");
}

TEST(MessageReader, ReadsLargeBodiesAloneOrFollowedByMore) {
  Buffer big(3u << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = std::byte(i * 7);
  Buffer one, two;
  EncodeMessage(MessageType::kFrame, big, &one);
  EncodeMessage(MessageType::kBye, {}, &two);
  for (const Buffer& stream : {one, Cat(one, two)}) {
    MessageReader reader;
    reader.Feed(ByteSpan(stream).first(100));
    EXPECT_EQ(reader.BytesWanted(), one.size() - 100);
    reader.Feed(ByteSpan(stream).subspan(100));
    Result<std::optional<Message>> m = reader.Next();
    ASSERT_OK(m);
    ASSERT_TRUE(m->has_value());
    EXPECT_EQ((*m)->type, MessageType::kFrame);
    EXPECT_TRUE((*m)->body == big);
    EXPECT_EQ(reader.buffered(), stream.size() - one.size());
    m = reader.Next();
    ASSERT_OK(m);
    EXPECT_EQ(m->has_value(), stream.size() > one.size());
  }
}

TEST(MessageReader, HoldsOnlyUnreadBytesAcrossManyMessages) {
  MessageReader reader;
  Buffer one;
  EncodeMessage(MessageType::kMissing, Encoded(IdMessage{Id(7)}), &one);
  for (int i = 0; i < 10000; ++i) {
    reader.Feed(ByteSpan(one).first(10));
    reader.Feed(ByteSpan(one).subspan(10));
    Result<std::optional<Message>> m = reader.Next();
    ASSERT_OK(m);
    ASSERT_TRUE(m->has_value());
    reader.Feed(ByteSpan(one).first(1));  // a partial next message
    EXPECT_EQ(reader.buffered(), 1u);
    reader.Feed(ByteSpan(one).subspan(1));
    m = reader.Next();
    ASSERT_OK(m);
    ASSERT_TRUE(m->has_value());
    ASSERT_EQ(reader.buffered(), 0u);
  }
}

}  // namespace
}  // namespace snap::replicator::protocol
