-- AlterTable
ALTER TABLE "Query" ADD COLUMN     "cluster" TEXT;

-- CreateIndex
CREATE INDEX "Query_cluster_idx" ON "Query"("cluster");
