// The demo application of `eiotool serve --socketio`, written for the Node
// socket.io 4.8 server (and Bun with @socket.io/bun-engine): the same
// namespaces, middleware and events, so that a test, a probe or a benchmark
// can run one script against our server and the reference, alone or mixed in
// one cluster. tools/eiotool's C++ version follows this file; the rules:
//
// Namespaces
//   /, /custom   admit everyone
//   /admin       a middleware joins the socket to room "guarded", then refuses
//                with {"message":"unauthorized"} unless auth.token is "letmein"
//   /slow        a middleware admits after 1 s (a timer)
//   /dyn-<name>  <name>: 1 to 64 of [A-Za-z0-9_-]; admitted after an
//                asynchronous check of 200 ms; concurrent first CONNECTs to
//                one name end in one namespace
//   anything else: "Invalid namespace"
// On connection to any namespace the server emits "auth" with the
// handshake's auth.
//
// Events (every namespace; "acks" answers the client's ack; "if asked" only
// when the client sent an ack id). Binary arguments stay binary.
//   message            emits "message-back" with the same arguments
//   message-with-ack   acks its arguments
//   echo               acks its arguments if asked, else emits "echo" with them
//   join / leave       joins / leaves the room named by the first argument;
//   set-data           stores the first argument as the socket's data;
//                      the three ack with no arguments if asked
//   whoami             acks {"sid","rooms" (sorted, without the socket's own
//                      id),"data" (or null),"recovered"}
//   broadcast          emits "broadcast" with its arguments to every socket of
//                      the namespace on every server, sender included
//   to-room            emits "room-message" with the remaining arguments to the
//                      room named by the first (a socket id names that socket);
//                      both ack with no arguments if asked
//   ask (ms, ...args)  emits "ask" with args to the sender with an ack and a
//                      timeout of ms (clamped to 1..10000; 1000 when not a
//                      number), then "ask-result" {"ok":true,"args":[...]} with
//                      the answer, or {"ok":false} at the timeout; a late or
//                      repeated answer is ignored
//   broadcast-ask (ms, ...args)  emits "ask" with acks to every socket of the
//                      namespace on every server with that timeout, and acks
//                      {"error": null or the message, "responses": [the first
//                      argument of each answer]} (at the timeout: the error and
//                      the answers so far)
//   fetch-sockets (room)        acks the sorted ids of the sockets in that room
//                               on every server
//   sockets-join (room, other)  makes them all join `other`
//   disconnect-room (room)      disconnects them
//                      the last two ack with no arguments once issued (unless
//                      the sender was among those disconnected). A room
//                      argument that is not a string names no room: nothing
//                      is in it (fetch acks [], the others do nothing).
//   sse (arg)          serverSideEmit("ping-sse", arg) with acks to the other
//                      servers of the cluster; acks {"node","error","responses"}
//                      (this server's name, null or the message, their names);
//                      a "ping-sse" from a peer is acked with this server's name
//   stats              acks {"namespaces": [sorted names], "sockets": {nsp:
//                      connected}, "connections": {nsp: connections since
//                      start}, "rooms": {nsp: {room: [sorted member ids]}}
//                      (the sockets' own rooms left out), "pendingAcks":
//                      server-side acks still waiting} for this server
//   anything else      nothing

const NAME = /^\/dyn-[A-Za-z0-9_-]{1,64}$/;

// The ack function a client sent, if any (the last argument).
function split(args) {
  if (args.length && typeof args[args.length - 1] === "function") {
    return { args: args.slice(0, -1), ack: args[args.length - 1] };
  }
  return { args, ack: null };
}

function clampMs(value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return 1000;
  return Math.min(10000, Math.max(1, Math.trunc(value)));
}

function roomOf(value) {
  return typeof value === "string" ? value : null;
}

export function installDemo(io, { nodeName, clustered = false }) {
  const connections = new Map();  // nsp -> connections since start
  let pendingAcks = 0;

  function onConnection(socket) {
    const nsp = socket.nsp.name;
    connections.set(nsp, (connections.get(nsp) ?? 0) + 1);
    // No data until "set-data" (socket.io starts every socket with {}); a
    // recovered socket keeps what it had.
    if (!socket.recovered) socket.data = null;
    socket.emit("auth", socket.handshake.auth);

    socket.on("message", (...raw) => {
      const { args } = split(raw);
      socket.emit("message-back", ...args);
    });
    socket.on("message-with-ack", (...raw) => {
      const { args, ack } = split(raw);
      if (ack) ack(...args);
    });
    socket.on("echo", (...raw) => {
      const { args, ack } = split(raw);
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });
    socket.on("join", (...raw) => {
      const { args, ack } = split(raw);
      const room = roomOf(args[0]);
      if (room !== null) socket.join(room);
      if (ack) ack();
    });
    socket.on("leave", (...raw) => {
      const { args, ack } = split(raw);
      const room = roomOf(args[0]);
      if (room !== null) socket.leave(room);
      if (ack) ack();
    });
    socket.on("set-data", (...raw) => {
      const { args, ack } = split(raw);
      socket.data = args[0] === undefined ? null : args[0];
      if (ack) ack();
    });
    socket.on("whoami", (...raw) => {
      const { ack } = split(raw);
      if (!ack) return;
      const rooms = [...socket.rooms].filter((r) => r !== socket.id).sort();
      ack({ sid: socket.id, rooms, data: socket.data ?? null, recovered: socket.recovered });
    });
    socket.on("broadcast", (...raw) => {
      const { args, ack } = split(raw);
      socket.nsp.emit("broadcast", ...args);
      if (ack) ack();
    });
    socket.on("to-room", (...raw) => {
      const { args, ack } = split(raw);
      const room = roomOf(args[0]);
      if (room !== null) socket.nsp.to(room).emit("room-message", ...args.slice(1));
      if (ack) ack();
    });
    socket.on("ask", (...raw) => {
      const { args } = split(raw);
      const ms = clampMs(args[0]);
      pendingAcks++;
      socket.timeout(ms).emit("ask", ...args.slice(1), (err, ...answer) => {
        pendingAcks--;
        socket.emit("ask-result", err ? { ok: false } : { ok: true, args: answer });
      });
    });
    socket.on("broadcast-ask", (...raw) => {
      const { args, ack } = split(raw);
      const ms = clampMs(args[0]);
      pendingAcks++;
      socket.nsp.timeout(ms).emit("ask", ...args.slice(1), (err, responses) => {
        pendingAcks--;
        if (ack) ack({ error: err ? err.message : null, responses: (responses ?? []).map((r) => r) });
      });
    });
    socket.on("fetch-sockets", async (...raw) => {
      const { args, ack } = split(raw);
      const room = roomOf(args[0]);
      const sockets = room === null ? [] : await socket.nsp.in(room).fetchSockets();
      if (ack) ack(sockets.map((s) => s.id).sort());
    });
    socket.on("sockets-join", (...raw) => {
      const { args, ack } = split(raw);
      const room = roomOf(args[0]);
      const other = roomOf(args[1]);
      if (room !== null && other !== null) socket.nsp.in(room).socketsJoin(other);
      if (ack) ack();
    });
    socket.on("disconnect-room", (...raw) => {
      const { args, ack } = split(raw);
      const room = roomOf(args[0]);
      const senderIncluded = room !== null && socket.rooms.has(room);
      if (room !== null) socket.nsp.in(room).disconnectSockets();
      if (ack && !senderIncluded) ack();
    });
    socket.on("sse", (...raw) => {
      const { args, ack } = split(raw);
      const done = (err, responses) => {
        if (ack) ack({ node: nodeName, error: err ? err.message : null, responses: responses ?? [] });
      };
      // A server alone (the in-memory adapter, which throws on
      // serverSideEmit) has no peers to ask: no responses, no error.
      if (!clustered) return done(null, []);
      pendingAcks++;
      io.serverSideEmit("ping-sse", args[0] ?? null, (err, responses) => {
        pendingAcks--;
        done(err, responses);
      });
    });
    socket.on("stats", (...raw) => {
      const { ack } = split(raw);
      if (!ack) return;
      const namespaces = [...io._nsps.keys()].sort();
      const sockets = {};
      const conns = {};
      const rooms = {};
      for (const name of namespaces) {
        const namespace = io._nsps.get(name);
        sockets[name] = namespace.sockets.size;
        conns[name] = connections.get(name) ?? 0;
        const own = new Set(namespace.sockets.keys());
        const byRoom = {};
        for (const [room, members] of namespace.adapter.rooms) {
          if (own.has(room)) continue;
          byRoom[room] = [...members].sort();
        }
        rooms[name] = byRoom;
      }
      ack({ namespaces, sockets, connections: conns, rooms, pendingAcks });
    });
  }

  io.on("ping-sse", (arg, ack) => {
    if (typeof ack === "function") ack(nodeName);
  });

  for (const name of ["/", "/custom"]) io.of(name).on("connection", onConnection);

  const admin = io.of("/admin");
  admin.use((socket, next) => {
    socket.join("guarded");
    if (socket.handshake.auth && socket.handshake.auth.token === "letmein") next();
    else next(new Error("unauthorized"));
  });
  admin.on("connection", onConnection);

  const slow = io.of("/slow");
  slow.use((socket, next) => setTimeout(() => next(), 1000));
  slow.on("connection", onConnection);

  // Dynamic namespaces: the asynchronous check (200 ms, as a database lookup
  // would take) runs before socket.io creates the namespace; concurrent first
  // CONNECTs to one name wait for the same check and join one namespace.
  const checks = new Map();  // name -> Promise<boolean>
  io.of((name, auth, next) => {
    if (!NAME.test(name)) return next(null, false);
    if (io._nsps.has(name)) return next(null, true);
    let check = checks.get(name);
    if (!check) {
      check = new Promise((resolve) => setTimeout(() => resolve(true), 200));
      checks.set(name, check);
      check.then(() => checks.delete(name));
    }
    check.then((ok) => next(null, ok));
  }).on("connection", onConnection);
}
