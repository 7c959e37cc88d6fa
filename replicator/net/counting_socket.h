// Private to replicator/net: a TCP socket that counts the bytes it moves,
// placed under an ssl::stream so the counts include TLS records (what the
// link actually carries), not just the plaintext.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <utility>

namespace snap::replicator::net {

class CountingSocket {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using lowest_layer_type = Socket::lowest_layer_type;
  using executor_type = Socket::executor_type;

  // Builds the socket from an io_context or an executor.
  template <typename ContextOrExecutor>
  explicit CountingSocket(ContextOrExecutor& ctx) : socket_(ctx) {}

  executor_type get_executor() { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_.lowest_layer(); }
  Socket& socket() { return socket_; }

  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          socket_.async_read_some(b, Counted(std::move(handler), &bytes_read_));
        },
        token, buffers);
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          socket_.async_write_some(b, Counted(std::move(handler), &bytes_written_));
        },
        token, buffers);
  }

 private:
  // Wraps `handler` so it adds the transferred bytes to *counter first; keeps
  // the handler's executor (the ssl layer's intermediate handlers rely on it).
  template <typename Handler>
  auto Counted(Handler handler, uint64_t* counter) {
    auto ex = boost::asio::get_associated_executor(handler, socket_.get_executor());
    return boost::asio::bind_executor(
        ex, [h = std::move(handler), counter](boost::system::error_code ec, size_t n) mutable {
          *counter += n;
          std::move(h)(ec, n);
        });
  }

  Socket socket_;
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace snap::replicator::net
