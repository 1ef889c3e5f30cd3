#pragma once

#include <memory>
#include <string>
#include <vector>

namespace rhp::proxy {

/* The Redis user a backend connection logs in as, in passthrough mode
 * (proxy.auth = "passthrough"): a client's own, after the master accepted
 * its AUTH. Shared by the client's session, its requests and the
 * connections that carry them; the password lives as long as any of them
 * (the proxy keeps no other copy, only a salted hash: LoginCache). */
struct BackendLogin {
  std::string username;
  std::string password;
  /* The commands the proxy answers itself (PING, ECHO, SELECT, CLIENT
   * SETNAME/GETNAME, ACL WHOAMI) that the nodes refuse this user, as ACL
   * rules ("-ping", "-client|setname"): found at login by running each as
   * the user (LoginProbe), so that the proxy refuses them as Redis would,
   * without evaluating the user's rules itself. */
  std::vector<std::string> refused;
};

/* Null: the [backend] section's own user (backend.username/password). */
using BackendLoginPtr = std::shared_ptr<const BackendLogin>;

/* Whether two logins log in alike (the same object, or the same user and
 * password). */
inline bool sameLogin(const BackendLoginPtr& a, const BackendLoginPtr& b) {
  return a == b || (a && b && a->username == b->username && a->password == b->password);
}

}  // namespace rhp::proxy
