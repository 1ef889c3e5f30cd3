#include "proxy/client_writes.h"

#include <memory>
#include <utility>

namespace rhp::proxy {

namespace {

struct WriteBatch {
  uv_write_t request{};
  std::string bytes;
  uv_write_cb done = nullptr;
};

struct ShutdownRequest {
  uv_shutdown_t request{};
  net::UvHandle<uv_tcp_t> tcp;  // closed once the pending replies are out
};

}  // namespace

int writeToClient(uv_stream_t* stream, std::string& bytes, uv_write_cb done) {
  std::size_t written = 0;
  if (uv_stream_get_write_queue_size(stream) == 0) {
    uv_buf_t direct = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
    const int rc = uv_try_write(stream, &direct, 1);
    if (rc > 0) written = static_cast<std::size_t>(rc);
  }
  if (written == bytes.size()) {
    bytes.clear();
    if (bytes.capacity() > kKeptBufferCapacity) bytes = std::string();
    return 0;
  }
  auto batch = std::make_unique<WriteBatch>();
  if (written == 0) {
    batch->bytes = std::exchange(bytes, std::string());  // no copy of a big backlog
  } else {
    batch->bytes.assign(bytes, written);
    bytes = std::string();
  }
  batch->done = done;
  uv_buf_t buf = uv_buf_init(batch->bytes.data(), static_cast<unsigned>(batch->bytes.size()));
  batch->request.data = batch.get();
  const int rc = uv_write(&batch->request, stream, &buf, 1, [](uv_write_t* request, int status) {
    std::unique_ptr<WriteBatch> finished(static_cast<WriteBatch*>(request->data));
    finished->done(request, status);
  });
  if (rc == 0) batch.release();  // the callback owns it now
  return rc;
}

void shutdownAfterWrites(net::UvHandle<uv_tcp_t> tcp) {
  auto shutdown = std::make_unique<ShutdownRequest>();
  shutdown->request.data = shutdown.get();
  uv_tcp_t* raw = tcp.get();
  shutdown->tcp = std::move(tcp);
  raw->data = nullptr;
  if (uv_shutdown(
          &shutdown->request, reinterpret_cast<uv_stream_t*>(raw), [](uv_shutdown_t* request, int) {
            std::unique_ptr<ShutdownRequest> done(static_cast<ShutdownRequest*>(request->data));
          }) == 0) {
    shutdown.release();
  }
}

}  // namespace rhp::proxy
