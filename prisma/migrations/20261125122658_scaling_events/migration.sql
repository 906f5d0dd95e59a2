-- AlterTable
ALTER TABLE "Query" ADD COLUMN     "backpressure" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "maxInstances" INTEGER,
ADD COLUMN     "minInstances" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "scalingMode" TEXT NOT NULL DEFAULT 'observe',
ADD COLUMN     "scalingPolicy" TEXT NOT NULL DEFAULT 'sluice';

-- CreateTable
CREATE TABLE "ScalingEvent" (
    "id" BIGSERIAL NOT NULL,
    "queryId" UUID NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "policy" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "fromInstances" INTEGER NOT NULL,
    "toInstances" INTEGER NOT NULL,
    "rateLimit" INTEGER,
    "reason" TEXT NOT NULL,
    "inputs" JSONB NOT NULL,
    "acted" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "ScalingEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ScalingEvent_queryId_at_idx" ON "ScalingEvent"("queryId", "at");

-- AddForeignKey
ALTER TABLE "ScalingEvent" ADD CONSTRAINT "ScalingEvent_queryId_fkey" FOREIGN KEY ("queryId") REFERENCES "Query"("id") ON DELETE CASCADE ON UPDATE CASCADE;
