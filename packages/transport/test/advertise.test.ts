import t from 'tap'
import { memoryWorld } from './helpers/worlds.js'

// Nodes on several machines listen on one address and are reached at another (0.0.0.0, NAT):
// the handshake must announce the advertised one, since that is what peers redial and gossip.
t.test('the handshake announces `advertise`, not the listening address', async (t) => {
  const w = memoryWorld(7)
  t.teardown(() => w.close())
  const a = w.node({ nodeId: 'a', advertise: 'a-public:7000' })
  const b = w.node({ nodeId: 'b' })
  await a.start()
  await b.start()
  t.equal(a.address, 'a-public:7000', 'the node reports its advertised address')
  t.equal(b.address, 'b', 'without advertise, the address listened on')
  const bUpAtA = new Promise<string>((resolve) => a.on('peer-up', (p) => resolve(p.address)))
  const peer = await b.connect('a')
  t.equal(peer.address, 'a-public:7000', 'the dialer learns the advertised address')
  t.equal(await bUpAtA, 'b', 'the acceptor learns the dialer\'s own address')
})
