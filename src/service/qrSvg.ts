/** The otpauth URI as a QR code (SVG) for the portal's enrolment page: the `qrcode` package, loaded when first needed. */
export async function qrSvg(uri: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
