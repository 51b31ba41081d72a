// The drain loop every adapter runs after calling into eio::server: take the
// actions (to carry out) and the events (for the application, which may
// queue more of both) until both queues are empty. Actions go first, in
// order, each carried out before the next (the direct path's contract: an
// empty action queue tells the core every earlier frame is in the output).
#pragma once

#include <eio/server.hpp>

namespace eio::wire {

// Calls on_action(action&) and on_event(event&) until the core has neither.
template <typename OnAction, typename OnEvent>
void drain_core(server& core, OnAction&& on_action, OnEvent&& on_event) {
  for (;;) {
    bool any = false;
    while (auto a = core.next_action()) {
      any = true;
      on_action(*a);
    }
    while (auto e = core.next_event()) {
      any = true;
      on_event(*e);
    }
    if (!any) return;
  }
}

}  // namespace eio::wire
