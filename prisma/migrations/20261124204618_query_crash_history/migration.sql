-- AlterTable
ALTER TABLE "Query" ADD COLUMN     "crashTimes" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "lastGoodVersion" INTEGER;
