export const placeholder = 'actor-core'
