import t from 'tap'
import * as swarm from '../src/index.js'
t.type(swarm.rendezvous, 'function', 'public face exports placement')
t.type(swarm.swim, 'function', 'and the failure detector')
