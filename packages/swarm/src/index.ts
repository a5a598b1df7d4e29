export const placeholder = 'swarm'
