export const placeholder = 'examples'
