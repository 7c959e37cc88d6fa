#include "replicator/server/clients_file.h"

#include <gtest/gtest.h>

#include "replicator/server/durable_file.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using testing::KeyOf;

const char kRepoHex[] = "00112233445566778899aabbccddeeff";

TEST(ClientList, ParsesPushAndReadLinesSkippingCommentsAndBlanks) {
  std::string text =
      "# admitted\n\npush " + KeyOf('a') + "\n  read " + KeyOf('b') + " " + kRepoHex + "  \n";
  Result<ClientList> list = ClientList::Parse(text);
  ASSERT_OK(list);
  ASSERT_EQ(list->grants().size(), 2u);
  RepoId repo = *ParseRepoId(kRepoHex);
  EXPECT_TRUE(list->MayPush(KeyOf('a')));
  EXPECT_FALSE(list->MayPush(KeyOf('b')));
  EXPECT_TRUE(list->MayRead(KeyOf('b'), repo));
  EXPECT_FALSE(list->MayRead(KeyOf('a'), repo));
  EXPECT_FALSE(list->MayRead(KeyOf('b'), RepoId{}));
}

TEST(ClientList, RejectsMalformedLineNamingIt) {
  std::string text = "push " + KeyOf('a') + "\nread " + KeyOf('b') + "\n";
  Result<ClientList> list = ClientList::Parse(text);
  ASSERT_FALSE(list.ok());
  EXPECT_TRUE(list.status().IsCorruption());
  EXPECT_NE(list.status().message().find("clients line 2"), std::string::npos)
      << list.status().message();
  EXPECT_FALSE(ClientList::Parse("push sha256:XYZ\n").ok());
  EXPECT_FALSE(ClientList::Parse("admit " + KeyOf('a') + "\n").ok());
}

TEST(ClientGrant, ValidatesKeyShapeAndRepositoryId) {
  EXPECT_TRUE(ClientGrant::Make(KeyOf('c'), std::nullopt).ok());
  EXPECT_TRUE(ClientGrant::Make(KeyOf('c'), std::string(kRepoHex)).ok());
  EXPECT_TRUE(ClientGrant::Make("sha256:abc", std::nullopt).status().IsInvalidArgument());
  EXPECT_TRUE(ClientGrant::Make(KeyOf('c'), std::string("abc")).status().IsInvalidArgument());
  EXPECT_TRUE(ClientGrant::Make(KeyOf('c'), std::string(32, 'g')).status().IsInvalidArgument());
}

TEST(AddGrant, AppendsOnceAndKeepsComments) {
  test::TempDir tmp;
  std::string path = tmp.Sub("clients");
  ASSERT_OK(WriteFileAtomic(path, "# mine\n", 0644));
  ClientGrant push = *ClientGrant::Make(KeyOf('a'), std::nullopt);
  ClientGrant read = *ClientGrant::Make(KeyOf('b'), std::string(kRepoHex));
  EXPECT_EQ(*AddGrant(path, push), true);
  EXPECT_EQ(*AddGrant(path, read), true);
  EXPECT_EQ(*AddGrant(path, push), false);
  std::string text = *ReadTextFile(path);
  EXPECT_EQ(text, "# mine\npush " + KeyOf('a') + "\nread " + KeyOf('b') + " " + kRepoHex + "\n");
}

TEST(AddGrant, RefusesToRewriteAMalformedFile) {
  test::TempDir tmp;
  std::string path = tmp.Sub("clients");
  ASSERT_OK(WriteFileAtomic(path, "garbage line\n", 0644));
  Result<bool> added = AddGrant(path, *ClientGrant::Make(KeyOf('a'), std::nullopt));
  EXPECT_TRUE(added.status().IsCorruption());
  EXPECT_EQ(*ReadTextFile(path), "garbage line\n");
}

TEST(ClientsFile, SeesGrantsAddedAfterTheFirstRead) {
  test::TempDir tmp;
  ClientsFile file(tmp.Sub("clients"));
  Result<std::shared_ptr<const ClientList>> before = file.Current();
  ASSERT_OK(before);
  EXPECT_FALSE((*before)->MayPush(KeyOf('a')));  // absent file: nobody admitted
  ASSERT_OK(AddGrant(tmp.Sub("clients"), *ClientGrant::Make(KeyOf('a'), std::nullopt)));
  Result<std::shared_ptr<const ClientList>> after = file.Current();
  ASSERT_OK(after);
  EXPECT_TRUE((*after)->MayPush(KeyOf('a')));
  EXPECT_EQ(file.Current()->get(), after->get());  // unchanged file: not parsed again
}

TEST(ClientsFile, FailsClosedOnAMalformedFile) {
  test::TempDir tmp;
  std::string path = tmp.Sub("clients");
  ASSERT_OK(AddGrant(path, *ClientGrant::Make(KeyOf('a'), std::nullopt)));
  ClientsFile file(path);
  ASSERT_OK(file.Current());
  ASSERT_OK(WriteFileAtomic(path, "push " + KeyOf('a') + "\nbroken\n", 0644));
  EXPECT_TRUE(file.Current().status().IsCorruption());
}

}  // namespace
}  // namespace snap::replicator::server
