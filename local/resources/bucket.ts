import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

/** Makes sure the bucket exists; asking first keeps "already exists" (someone else's bucket, on AWS) an error. */
export async function ensureBucket(s3: S3Client, bucketName: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
  } catch (error) {
    if ((error as Error).name !== 'NotFound') throw error;
    await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  }
}
