import { useMemo } from 'react';
import { encode } from 'uqr';
import { qrPath } from '../../lib/account';

/**
 * A QR code of `text`, drawn as one SVG path (uqr encodes it; nothing is injected as markup).
 * Black on white with a quiet zone, as scanners expect, whatever the page's colours.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => {
    const qr = encode(text, { ecc: 'M', border: 4 });
    return { size: qr.size, path: qrPath(qr.data) };
  }, [text]);
  return (
    <svg
      className="qr"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      width={size * 4}
      height={size * 4}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
