import t from 'tap'
import uWS from 'uWebSockets.js'
import { transportCompliance } from './compliance/transport.js'
import { uwsWorld } from './helpers/worlds.js'

t.ok(String(uWS.App).includes('[native code]'), 'the native uWebSockets.js addon is loaded')
transportCompliance(t, () => uwsWorld())
