/** dockops's own version, written into manifests, labels and `docker version`. */
export const VERSION = '0.1.0';
