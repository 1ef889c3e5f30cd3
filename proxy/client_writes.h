#pragma once

#include <uv.h>

#include <cstddef>
#include <string>

#include "net/uv_handle.h"

namespace rhp::proxy {

/* A client's input and output buffers keep up to this much capacity when
 * emptied; above it (after one big request or a burst of replies) they are
 * freed, or every client that once moved 100 MB would hold it for good. */
inline constexpr std::size_t kKeptBufferCapacity = 64 * 1024;

/* Writes `bytes` to a client's socket and empties it. Tries the write at
 * once first: usually the socket takes it all, and no write request or
 * copy is needed. What it does not take is queued with uv_write, moved, not
 * copied, when nothing was taken; `done` runs when it is written, with the
 * handle's data still pointing at its owner. Returns libuv's error when it
 * could not even queue (then the client is gone). */
int writeToClient(uv_stream_t* stream, std::string& bytes, uv_write_cb done);

/* Closes the connection once the writes queued on it are out: uv_shutdown
 * completes after pending writes, uv_close would cancel them. The handle's
 * data is cleared first, so nothing reaches the owner any more. */
void shutdownAfterWrites(net::UvHandle<uv_tcp_t> tcp);

}  // namespace rhp::proxy
