-- AlterTable
ALTER TABLE "Query" ADD COLUMN     "checkpointEpoch" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "checkpoints" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "lastGoodCheckpointEpoch" INTEGER,
ADD COLUMN     "previousGoodCheckpointEpoch" INTEGER,
ADD COLUMN     "previousGoodVersion" INTEGER;
