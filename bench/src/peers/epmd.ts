/**
 * A minimal Erlang Port Mapper Daemon inside the bench process, listening on 127.0.0.1 only (the
 * real `epmd` always adds [::1] too). It answers the two requests two nodes need to find each
 * other: ALIVE2_REQ (a node registers its distribution port for as long as its connection stays
 * open) and PORT_PLEASE2_REQ (a node asks for another's port). Protocol: ERTS User's Guide,
 * "Distribution Protocol", section "EPMD Protocol".
 *
 * @example
 * const epmd = await startEpmd()
 * spawn('erl', [...], { env: { ERL_EPMD_PORT: String(epmd.port) } })   // with -start_epmd false
 * await epmd.close()
 */
import { createServer, type Socket } from 'node:net'

const ALIVE2_REQ = 120
const ALIVE2_X_RESP = 118
const PORT_PLEASE2_REQ = 122
const PORT2_RESP = 119

interface Registration {
  readonly port: number
  readonly nodeType: number
  readonly protocol: number
  readonly highest: number
  readonly lowest: number
  readonly extra: Buffer
}

export interface Epmd {
  readonly port: number
  close(): Promise<void>
}

export async function startEpmd(): Promise<Epmd> {
  const nodes = new Map<string, Registration>()
  const sockets = new Set<Socket>()
  let creation = 1
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let buf = Buffer.alloc(0)
    let registered: string | undefined
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return
      const req = buf.subarray(2, 2 + buf.readUInt16BE(0))
      buf = buf.subarray(2 + req.length)
      if (req[0] === ALIVE2_REQ && registered === undefined) {
        const nameLen = req.readUInt16BE(9)
        const name = req.subarray(11, 11 + nameLen).toString('utf8')
        const extraLen = req.readUInt16BE(11 + nameLen)
        nodes.set(name, {
          port: req.readUInt16BE(1),
          nodeType: req[3]!,
          protocol: req[4]!,
          highest: req.readUInt16BE(5),
          lowest: req.readUInt16BE(7),
          extra: Buffer.from(req.subarray(13 + nameLen, 13 + nameLen + extraLen)),
        })
        registered = name
        socket.once('close', () => nodes.delete(name))
        const resp = Buffer.alloc(6)
        resp[0] = ALIVE2_X_RESP
        resp[1] = 0
        resp.writeUInt32BE(creation++, 2)
        socket.write(resp)
      } else if (req[0] === PORT_PLEASE2_REQ) {
        const name = req.subarray(1).toString('utf8')
        const n = nodes.get(name)
        if (n === undefined) {
          socket.end(Buffer.from([PORT2_RESP, 1]))
          return
        }
        const nameBuf = Buffer.from(name, 'utf8')
        const resp = Buffer.alloc(12 + nameBuf.length + 2 + n.extra.length)
        resp[0] = PORT2_RESP
        resp[1] = 0
        resp.writeUInt16BE(n.port, 2)
        resp[4] = n.nodeType
        resp[5] = n.protocol
        resp.writeUInt16BE(n.highest, 6)
        resp.writeUInt16BE(n.lowest, 8)
        resp.writeUInt16BE(nameBuf.length, 10)
        nameBuf.copy(resp, 12)
        resp.writeUInt16BE(n.extra.length, 12 + nameBuf.length)
        n.extra.copy(resp, 14 + nameBuf.length)
        socket.end(resp)
      } else {
        // Anything else (names, kill, a second ALIVE2 on one connection) is not needed here.
        socket.destroy()
      }
    })
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const a = server.address()
      resolve(typeof a === 'object' && a !== null ? a.port : 0)
    })
  })
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
