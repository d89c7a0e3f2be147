// Sizes in progress lines and download notes: megabytes with one decimal, as "12.3".
export const megabytes = (bytes: number) => (bytes / 1e6).toFixed(1);
