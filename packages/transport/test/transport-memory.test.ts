import t from 'tap'
import { transportCompliance } from './compliance/transport.js'
import { memoryWorld } from './helpers/worlds.js'

transportCompliance(t, () => memoryWorld(7))
