#include "replicator/net/http_endpoint.h"

#include <gtest/gtest.h>

// clang-format off
// First: Boost 1.74 awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tests/support/test_util.h"

namespace snap::replicator::net {
namespace {

namespace asio = boost::asio;
using engine::Status;

// Sends `request` as is and returns everything the server answers before
// it closes (the endpoint answers one request per connection).
std::string Exchange(uint16_t port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket sock(io);
  boost::system::error_code ec;
  sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  EXPECT_FALSE(ec) << ec.message();
  asio::write(sock, asio::buffer(request), ec);
  EXPECT_FALSE(ec) << ec.message();
  std::string answer;
  asio::read(sock, asio::dynamic_buffer(answer), ec);
  EXPECT_EQ(ec, asio::error::eof) << ec.message();
  return answer;
}

HttpResponse Answer(const std::string& path) {
  if (path == "/health") return {200, "text/plain; charset=utf-8", "ok\n"};
  return {404, "text/plain; charset=utf-8", "no " + path + "\n"};
}

TEST(HttpEndpoint, AnswersGetWithTheHandlersStatusAndBody) {
  HttpEndpoint http("127.0.0.1", 0, Answer);
  ASSERT_OK(http.Start());
  ASSERT_NE(http.port(), 0);
  std::string ok = Exchange(http.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 200 OK\r\n")) << ok;
  EXPECT_NE(ok.find("Content-Length: 3\r\n"), std::string::npos) << ok;
  EXPECT_TRUE(ok.ends_with("\r\n\r\nok\n")) << ok;
  std::string missing = Exchange(http.port(), "GET /nope?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(missing.starts_with("HTTP/1.1 404 ")) << missing;
  EXPECT_TRUE(missing.ends_with("no /nope\n")) << missing;
}

TEST(HttpEndpoint, AnswersHeadWithoutBody) {
  HttpEndpoint http("127.0.0.1", 0, Answer);
  ASSERT_OK(http.Start());
  std::string head = Exchange(http.port(), "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK\r\n")) << head;
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
}

TEST(HttpEndpoint, RefusesOtherMethodsWith405) {
  int calls = 0;
  HttpEndpoint http("127.0.0.1", 0, [&](const std::string& p) {
    ++calls;
    return Answer(p);
  });
  ASSERT_OK(http.Start());
  std::string post =
      Exchange(http.port(), "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_TRUE(post.starts_with("HTTP/1.1 405 ")) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos) << post;
  http.Stop();
  EXPECT_EQ(calls, 0);
}

TEST(HttpEndpoint, RefusesRequestsBeyondItsBound) {
  HttpEndpoint http("127.0.0.1", 0, Answer);
  ASSERT_OK(http.Start());
  std::string big(9000, 'x');
  std::string answer = Exchange(http.port(), "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                                 std::to_string(big.size()) + "\r\n\r\n" + big);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413 ")) << answer;
}

TEST(HttpEndpoint, StartFailsOnAPortInUse) {
  HttpEndpoint first("127.0.0.1", 0, Answer);
  ASSERT_OK(first.Start());
  HttpEndpoint second("127.0.0.1", first.port(), Answer);
  Status s = second.Start();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace snap::replicator::net
