export function electronBinary(): { path: string } | { missing: string };
export const INSTALL_HINT: string;
