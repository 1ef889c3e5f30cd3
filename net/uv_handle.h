#pragma once

#include <uv.h>

#include <utility>

namespace rhp::net {

/* Owns one libuv handle. libuv keeps the handle's address until its close
 * callback has run, so the handle lives on the heap and is freed only there;
 * moving the wrapper moves the pointer, never the handle. The destructor
 * clears `data` first so a callback that is still queued finds no owner.
 *
 * Starts empty. allocate() gives fresh storage to pass to uv_*_init; if that
 * init fails, discardUninitialized() frees it (libuv never saw it). */
template <class H>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { reset(); }
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  /* Closes any handle held and returns new storage for uv_*_init. */
  H* allocate() {
    reset();
    handle_ = new H{};
    return handle_;
  }

  H* get() const { return handle_; }
  H* operator->() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

  /* Call when uv_*_init failed: libuv never registered the handle, so there
   * is nothing to close and it is freed at once. */
  void discardUninitialized() {
    delete handle_;
    handle_ = nullptr;
  }

  /* Closes (asynchronously) and forgets the handle; safe to call twice. */
  void reset() {
    if (handle_ == nullptr) return;
    H* handle = std::exchange(handle_, nullptr);
    handle->data = nullptr;
    auto* base = reinterpret_cast<uv_handle_t*>(handle);
    if (uv_is_closing(base)) return;  // someone else's close callback frees it
    uv_close(base, [](uv_handle_t* closed) { delete reinterpret_cast<H*>(closed); });
  }

 private:
  H* handle_ = nullptr;
};

}  // namespace rhp::net
