import { S3Client } from '@aws-sdk/client-s3';
import type { MakeClient } from '../clients';

export const makeS3Client: MakeClient<'s3'> = (config, { instrument }) =>
  instrument(
    new S3Client({
      ...config,
      // An endpoint of our own (the local emulator) is addressed by path, not by bucket subdomain.
      forcePathStyle: Boolean(config.endpoint),
      // Default checksums make presigned PUTs carry an empty-body CRC that S3 then rejects.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  );
