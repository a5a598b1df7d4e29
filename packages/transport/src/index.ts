export const placeholder = 'transport'
